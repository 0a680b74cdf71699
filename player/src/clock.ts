/**
 * The player's estimate of the server's clock. Every sample is a request/answer pair; the one
 * with the shortest round trip of the recent ones wins, since its midpoint is the best bound.
 */
export class ServerClock {
  private samples: { offset: number; rtt: number }[] = [];
  private best = 0;

  /**
   * @param rate speeds the clock up for soak runs (diagnostics only); 1 in production.
   * @param start where a sped-up clock starts (epoch ms).
   */
  constructor(
    private readonly rate = 1,
    private readonly start = Date.now(),
    private readonly realStart = Date.now(),
  ) {}

  /** Starts from a remembered offset until the first live sample arrives. */
  seed(offset: number): void {
    if (this.samples.length === 0) this.best = offset;
  }

  /** Records that the server said `serverTime` between local `sentAt` and `receivedAt`. */
  sample(serverTime: number, sentAt: number, receivedAt: number): void {
    const rtt = Math.max(0, receivedAt - sentAt);
    this.samples.push({ offset: serverTime - (sentAt + receivedAt) / 2, rtt });
    if (this.samples.length > 8) this.samples.shift();
    this.best = this.samples.reduce((a, b) => (b.rtt < a.rtt ? b : a)).offset;
  }

  /** Milliseconds to add to the local clock to get the server's. */
  get offset(): number {
    return Math.round(this.best);
  }

  /** The server-corrected time, epoch ms. */
  now(): number {
    const local = this.rate === 1 ? Date.now() : this.start + (Date.now() - this.realStart) * this.rate;
    return local + this.best;
  }
}
