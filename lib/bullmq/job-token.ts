/**
 * Where a job carries its read-your-writes token: a key of its options, not of its data. BullMQ
 * stores the options it does not know as they are (in the job's `opts` hash field in Redis) and
 * hands them back to the worker, so the user's data stays exactly what the user enqueued.
 */
export const PINDB_TOKEN_OPTION = 'pindbToken';

/** Job options with the token nestjs-pindb added. */
export interface PinDbJobOptions {
  [PINDB_TOKEN_OPTION]?: string;
}

/** The read-your-writes token a job carries (undefined: it was enqueued outside any pinning context, or by a plain Queue). */
export function pinDbTokenOf(job: { opts?: object }): string | undefined {
  const token = (job.opts as PinDbJobOptions | undefined)?.[PINDB_TOKEN_OPTION];
  return typeof token === 'string' && token.length > 0 ? token : undefined;
}

/** `opts` with `token`, unless there is none or the caller already put one there (a token handed on by hand wins). */
export function withToken<O extends object>(opts: O | undefined, token: string | undefined): O | undefined {
  if (token === undefined || (opts as PinDbJobOptions | undefined)?.[PINDB_TOKEN_OPTION] !== undefined) return opts;
  return { ...opts, [PINDB_TOKEN_OPTION]: token } as O;
}

/** A node of a flow, as BullMQ 5 and 6 both shape it: its options, and its children. */
export interface FlowNode {
  name: string;
  opts?: object;
  children?: readonly FlowNode[];
}

/** The flow with `token` in the options of every job of the tree (the parent and each child, to any depth). */
export function flowWithToken<F extends FlowNode>(flow: F, token: string | undefined): F {
  if (token === undefined) return flow;
  return {
    ...flow,
    opts: withToken(flow.opts, token),
    ...(flow.children ? { children: flow.children.map((child) => flowWithToken(child, token)) } : {}),
  };
}
