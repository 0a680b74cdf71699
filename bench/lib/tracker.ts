import { withTimeout } from './async.js';
import type { PlayerObserver, SimulatedPlayer } from './players.js';

type Round =
  | { readonly kind: 'manifest'; readonly noticeId: string; readonly title: string }
  | { readonly kind: 'ping'; readonly seq: number };

interface OpenRound {
  readonly round: Round;
  readonly affected: ReadonlySet<SimulatedPlayer>;
  readonly pending: Set<SimulatedPlayer>;
  lastAt: number;
  readonly done: Promise<void>;
  finish(): void;
}

/**
 * Watches every receipt of every player. A round names who must receive what; the round ends
 * when the last of them has it. Anything else that arrives is counted as a violation.
 */
export class Tracker implements PlayerObserver {
  readonly violations = new Map<string, number>();
  private open: OpenRound | null = null;

  violation(what: string, count = 1): void {
    this.violations.set(what, (this.violations.get(what) ?? 0) + count);
  }

  /** Starts a round in which exactly the players in `affected` must each receive `round` once. */
  begin(round: Round, affected: ReadonlySet<SimulatedPlayer>): void {
    if (this.open) throw new Error('bench: a round is already open');
    let finish = () => {};
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    this.open = { round, affected, pending: new Set(affected), lastAt: -Infinity, done, finish };
    if (affected.size === 0) finish();
  }

  /** Waits for the round; the time the last affected player got there, or null (misses counted). */
  async end(timeoutMs: number): Promise<number | null> {
    const open = this.open;
    if (!open) throw new Error('bench: no round is open');
    try {
      await withTimeout(open.done, timeoutMs, 'round');
      return open.lastAt;
    } catch {
      this.violation(open.round.kind === 'manifest' ? 'affected player never held the new manifest' : 'player in the room never got the ping', open.pending.size);
      return null;
    } finally {
      this.open = null;
    }
  }

  manifestHeld(player: SimulatedPlayer, at: number): void {
    const open = this.open;
    if (!open || open.round.kind !== 'manifest') return this.violation('manifest push outside a change');
    if (!open.affected.has(player)) return this.violation('manifest push to an unaffected player');
    if (!open.pending.has(player)) return this.violation('second manifest push for one change');
    if (player.manifest?.items[open.round.noticeId]?.title !== open.round.title) return this.violation('pushed manifest lacks the change');
    this.arrived(open, player, at);
  }

  pinged(player: SimulatedPlayer, seq: number, at: number): void {
    const open = this.open;
    if (!open || open.round.kind !== 'ping' || open.round.seq !== seq) return this.violation('ping outside its round');
    if (!open.affected.has(player)) return this.violation('ping to a player outside the room');
    if (!open.pending.has(player)) return this.violation('ping delivered twice');
    this.arrived(open, player, at);
  }

  problem(_player: SimulatedPlayer, what: string): void {
    this.violation(what);
  }

  private arrived(open: OpenRound, player: SimulatedPlayer, at: number): void {
    open.pending.delete(player);
    open.lastAt = Math.max(open.lastAt, at);
    if (open.pending.size === 0) open.finish();
  }
}
