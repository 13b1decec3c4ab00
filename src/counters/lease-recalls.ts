import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { runCounterCommand } from './redis-counters.js';

/** Options of {@link LeaseRecalls.start}. */
export interface LeaseRecallsOptions {
  /** The command connection: recalls and answers are published on it. */
  client: Redis;
  /** Channels are this prefix followed by `lease-recall` and `lease-ack:<leaseId>`. */
  prefix: string;
  /** This process's lease id: its recalls are sent from it and answered to it. */
  leaseId: string;
  /** How long a recall waits for answers before the caller goes on (default 250 ms). */
  waitMs?: number;
  /** Gives back this process's free lease on a bucket another process asked for; the answer is sent once it resolves. */
  giveBack: (bucket: string) => Promise<void>;
  onError: (error: unknown) => void;
}

/** A recall this process sent: how many processes heard it (once known) and how many have answered. */
interface PendingRecall {
  expected: number | undefined;
  answered: number;
  done: () => void;
}

const DEFAULT_WAIT_MS = 250;

/**
 * The recall protocol between gateway processes sharing Redis counters, over publish/subscribe on a second connection
 * (a subscribed connection can send nothing else). A process whose request is refused while other processes' leases
 * are in the way publishes a recall for the bucket; every other process gives back its free lease there and answers;
 * the recall ends when every process that heard it has answered. The wait is bounded only for a process that stopped
 * answering without leaving: one that leaves ends its subscription, and Redis counts only those subscribed.
 */
export class LeaseRecalls {
  readonly #options: LeaseRecallsOptions;
  readonly #subscriber: Redis;
  readonly #recallChannel: string;
  readonly #ackChannel: string;
  readonly #pending = new Map<string, PendingRecall>();
  #closed = false;

  private constructor(options: LeaseRecallsOptions) {
    this.#options = options;
    this.#subscriber = options.client.duplicate();
    this.#recallChannel = `${options.prefix}lease-recall`;
    this.#ackChannel = ackChannel(options.prefix, options.leaseId);
    this.#subscriber.on('message', (channel: string, message: string) => this.#onMessage(channel, message));
  }

  /** Subscribes before returning, so that no recall sent afterwards is missed. */
  static async start(options: LeaseRecallsOptions): Promise<LeaseRecalls> {
    const recalls = new LeaseRecalls(options);
    try {
      await runCounterCommand(() => recalls.#subscriber.subscribe(recalls.#recallChannel, recalls.#ackChannel));
    } catch (error) {
      recalls.close();
      throw error;
    }
    return recalls;
  }

  /** Asks every other process to give back its free lease on a bucket, and waits for their answers. */
  async recall(bucket: string): Promise<void> {
    const id = randomUUID();
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => {
      resolveDone = resolve;
    });
    const recall: PendingRecall = { expected: undefined, answered: 0, done: resolveDone };
    this.#pending.set(id, recall);
    const timer = setTimeout(recall.done, this.#options.waitMs ?? DEFAULT_WAIT_MS);
    try {
      const message = JSON.stringify({ id, from: this.#options.leaseId, bucket });
      const receivers = await runCounterCommand(() => this.#options.client.publish(this.#recallChannel, message));
      // This process hears its own recall too and does not answer it. Answers come on the other connection and may
      // arrive before the publish's reply, so they are counted from the start.
      recall.expected = receivers - 1;
      if (recall.answered >= recall.expected) recall.done();
      await done;
    } finally {
      clearTimeout(timer);
      this.#pending.delete(id);
    }
  }

  /** Ends the subscription. */
  close(): void {
    this.#closed = true;
    this.#subscriber.disconnect();
  }

  #onMessage(channel: string, message: string): void {
    if (this.#closed) return;
    if (channel === this.#ackChannel) {
      const recall = this.#pending.get(message);
      if (recall === undefined) return;
      recall.answered += 1;
      if (recall.expected !== undefined && recall.answered >= recall.expected) recall.done();
      return;
    }
    const request = parseRecall(message);
    if (request === undefined || request.from === this.#options.leaseId) return;
    this.#options
      .giveBack(request.bucket)
      .then(() => this.#options.client.publish(ackChannel(this.#options.prefix, request.from), request.id))
      .catch((error: unknown) => this.#options.onError(error));
  }
}

function ackChannel(prefix: string, leaseId: string): string {
  return `${prefix}lease-ack:${leaseId}`;
}

/** A recall message, or undefined for anything else published on the channel. */
function parseRecall(message: string): { id: string; from: string; bucket: string } | undefined {
  try {
    const value = JSON.parse(message) as { id?: unknown; from?: unknown; bucket?: unknown };
    if (typeof value.id !== 'string' || typeof value.from !== 'string' || typeof value.bucket !== 'string') return undefined;
    return { id: value.id, from: value.from, bucket: value.bucket };
  } catch {
    return undefined;
  }
}
