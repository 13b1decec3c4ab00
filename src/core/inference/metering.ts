import type { Principal } from '../auth/authenticator.js';
import type { TokenUsage } from '../../spec/usage.js';
import type { RouteTarget } from '../routing/router.js';

/** What the meter learns before dispatch. */
export interface MeteringStart {
  principal: Principal;
  requestId: string;
  requestType: 'chat' | 'embeddings' | 'messages' | 'responses';
  /** The primary target followed by the fallbacks, in order. */
  targets: RouteTarget[];
  /** The canonical request (OpenAI chat or embeddings body). */
  body: Record<string, unknown>;
  /** Input tokens the request may send beyond what `body` shows (see `NativeRequest.extraInputTokens`). */
  extraInputTokens?: number;
}

/** How an attempt or a request ended, for settlement and the ledger. */
export interface MeteringOutcome {
  status: number;
  /** Who served it, when an upstream answered successfully. */
  served?: { target: RouteTarget; keyId: string; pricingStructureId: string | null };
  /** What the upstream reported; absent when it reported nothing (the reservation is then charged). */
  usage?: TokenUsage;
  errorCode?: string;
  latencyMs: number;
  stream: boolean;
}

/**
 * A request's metering: settled exactly once, on every exit path. `settle` does not wait for the limit counters:
 * it issues the counters' settlement before it returns, and their reply, then the request's ledger row, follow in
 * the background (`UsageMeter.drain` waits for them; counters of this process alone settle at once). The answer
 * thus leaves without a counter round trip, and no limit is loosened meanwhile: until the settlement lands, the
 * request's reservation, its worst case, still holds.
 */
export interface MeteringTicket {
  settle(outcome: MeteringOutcome): void;
}

/**
 * The seam where API-key limits and the usage ledger plug in. `begin` may refuse the request (402, 429) before
 * anything is sent upstream; the ticket is settled whatever happens after.
 */
export interface UsageMeter {
  begin(start: MeteringStart): Promise<MeteringTicket>;
  /**
   * Refuses (401, 403) a principal that may not use these targets, reserving nothing: for requests that consume
   * no budget, such as token counts.
   */
  permit(principal: Principal, targets: RouteTarget[]): void;
  /** Resolves once every settlement issued so far has landed in the counters (before a shutdown closes them). */
  drain(): Promise<void>;
}

/**
 * Runs a request's settlement once its answer is written: on the next tick, since a route writes its answer in the
 * microtasks that follow the service's return. A tick still runs before the process reads any other request, so
 * whatever comes next (a usage read, the key's next request) sees the settlement; the client just does not wait for
 * it. A failure there has no request left to answer: it goes to `onError`, never up into the process.
 */
export function settleAfterAnswer(settle: () => void, onError: (error: unknown, context: string) => void): void {
  process.nextTick(() => {
    try {
      settle();
    } catch (error) {
      onError(error, 'settle');
    }
  });
}

/** Metering that only observes (no limits, no ledger). */
export const observingMeter: UsageMeter = {
  async begin() {
    return { settle() {} };
  },
  permit() {},
  async drain() {},
};
