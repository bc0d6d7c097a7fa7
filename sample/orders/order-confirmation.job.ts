/** The BullMQ queue of the order confirmations. */
export const ORDER_CONFIRMATIONS = 'order-confirmations';

/** A confirmation job's data: the order only. The read-your-writes token travels in the job's options. */
export interface OrderConfirmation {
  orderId: number;
}

/** What a confirmation job returns (kept by BullMQ as the job's return value). */
export interface ConfirmationSent {
  orderId: number;
  to: string;
  /** `host:port` of the servers its reads went to. */
  readFrom: string[];
  /** How many times the job was put back to wait for a replica ('delayed' consistency). */
  putBack: number;
}
