import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import type { PinRequest } from '../../lib/index.js';

/** The user an auth guard puts on the framework's request, as the GraphQL context holds it (`req`, with either driver). */
export interface RequestWithUser {
  user?: { id: string };
}

/** A global auth guard for resolvers: the user is the `x-user` header, set on `GqlExecutionContext`'s `req`. */
@Injectable()
export class UserFromHeaderGuard implements CanActivate {
  canActivate(execution: ExecutionContext): boolean {
    if (execution.getType<string>() !== 'graphql') return true;
    const { req } = GqlExecutionContext.create(execution).getContext<{ req: PinRequest & RequestWithUser }>();
    const id = req.headers['x-user'];
    if (typeof id === 'string') req.user = { id };
    return true;
  }
}

/** `clientKey` for the guard above: the user's id, once the guard has run. */
export function userKey(request: PinRequest): string | undefined {
  return (request as RequestWithUser).user?.id;
}
