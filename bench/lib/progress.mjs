// A progress bar on stderr: redrawn in place on a terminal, plain lines (every 5 s and at the end)
// otherwise, so CI logs stay readable.
const WIDTH = 24;

export class Progress {
  /** @param {string} label @param {number} total */
  constructor(label, total, stream = process.stderr) {
    this.label = label;
    this.total = total;
    this.stream = stream;
    this.tty = Boolean(stream.isTTY);
    this.done = 0;
    this.started = performance.now();
    this.lastDraw = 0;
  }

  tick(n = 1) {
    this.done += n;
    const now = performance.now();
    if (now - this.lastDraw >= (this.tty ? 100 : 5000)) {
      this.lastDraw = now;
      this.#draw(false);
    }
  }

  finish(note = "") {
    this.#draw(true, note);
  }

  #draw(final, note = "") {
    const seconds = (performance.now() - this.started) / 1000;
    const rate = seconds > 0 ? Math.round(this.done / seconds) : 0;
    const fraction = this.total > 0 ? Math.min(1, this.done / this.total) : 1;
    const filled = Math.round(fraction * WIDTH);
    const text = `${this.label.padEnd(30)} [${"#".repeat(filled)}${"-".repeat(WIDTH - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}%  ${this.done}/${this.total}  ${rate}/s  ${seconds.toFixed(1)} s${note ? `  ${note}` : ""}`;
    if (this.tty) this.stream.write(`\r\x1b[2K${text}${final ? "\n" : ""}`);
    else this.stream.write(`${text}\n`);
  }
}
