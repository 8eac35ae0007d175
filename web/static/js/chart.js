// The price chart: an SVG step line per outcome (a price holds until the next
// change), drawn from priceHistory and extended live with marketPrices.
// Redraws on resize; hovering shows the prices at that moment.

import { h } from "./dom.js";
import { percent, dateTime } from "./format.js";

const NS = "http://www.w3.org/2000/svg";
export const PALETTE = [
  "#1f6feb", "#d9480f", "#2b8a3e", "#7048e8", "#c2255c",
  "#0b7285", "#a36400", "#5c940d", "#862e9c", "#495057",
];

function svg(tag, attrs = {}) {
  const el = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  return el;
}

export class PriceChart {
  /**
   * @param {{name: string}[]} outcomes
   * @param {{at: string, prices: number[]}[]} history oldest first
   * @param {number[]} lines indexes of the outcomes to draw
   */
  constructor(outcomes, history, lines) {
    this.outcomes = outcomes;
    this.lines = lines;
    this.points = [];
    this.hoverT = null;
    this.readout = h("div", { class: "chart-readout" });
    this.svg = svg("svg", { class: "chart-svg", role: "img" });
    this.frame = h("div", { class: "chart-frame" }, this.svg);
    this.el = h("figure", { class: "chart" }, this.readout, this.frame);
    this.svg.addEventListener("pointermove", (e) => this.hover(e));
    this.svg.addEventListener("pointerleave", () => {
      this.hoverT = null;
      this.draw();
    });
    this.resize = new ResizeObserver(() => this.draw());
    this.resize.observe(this.frame);
    this.setHistory(history);
  }

  setHistory(history) {
    this.points = history.map((p) => ({ t: Date.parse(p.at), prices: p.prices }));
    this.draw();
  }

  /** Whether `prices` differ from the chart's last point (so a live update is a new step). */
  differs(prices) {
    const last = this.points.at(-1);
    return !last || prices.some((p, i) => Math.abs(p - (last.prices[i] ?? NaN)) > 1e-12 || Number.isNaN(last.prices[i] ?? NaN));
  }

  /** A live price update. */
  push(at, prices) {
    const t = Math.max(Date.parse(at), this.points.length ? this.points.at(-1).t : 0);
    this.points.push({ t, prices });
    this.draw();
  }

  destroy() {
    this.resize.disconnect();
  }

  span() {
    const now = Date.now();
    const t0 = this.points.length ? this.points[0].t : now - 3600_000;
    const t1 = Math.max(now, this.points.length ? this.points.at(-1).t : now);
    return [t0, Math.max(t1, t0 + 60_000)];
  }

  geometry() {
    const width = Math.max(280, this.frame.clientWidth || 600);
    const height = width < 500 ? 200 : 260;
    return { width, height, left: 6, right: 46, top: 12, bottom: 26 };
  }

  draw() {
    const g = this.geometry();
    const [t0, t1] = this.span();
    const x = (t) => g.left + ((t - t0) / (t1 - t0)) * (g.width - g.left - g.right);
    const y = (p) => g.top + (1 - p) * (g.height - g.top - g.bottom);
    this.svg.setAttribute("viewBox", `0 0 ${g.width} ${g.height}`);
    this.svg.replaceChildren(...this.grid(g, x, y, t0, t1), ...this.series(g, x, y, t1));
    this.drawHover(g, x, y);
    this.describe();
  }

  grid(g, x, y, t0, t1) {
    const parts = [];
    for (const p of [0, 0.25, 0.5, 0.75, 1]) {
      parts.push(svg("line", {
        x1: g.left, x2: g.width - g.right, y1: y(p), y2: y(p), class: "grid",
      }));
      const label = svg("text", { x: g.width - g.right + 6, y: y(p) + 4, class: "axis" });
      label.textContent = `${p * 100}%`;
      parts.push(label);
    }
    const sameDay = t1 - t0 < 86_400_000;
    const fmt = (t) => new Date(t).toLocaleString(undefined, sameDay
      ? { hour: "2-digit", minute: "2-digit" }
      : { month: "short", day: "numeric" });
    const ticks = [[t0, "start"], [(t0 + t1) / 2, "middle"], [t1, "end"]];
    for (const [t, anchor] of ticks) {
      const label = svg("text", {
        x: anchor === "end" ? g.width - g.right : x(t), y: g.height - 6,
        "text-anchor": anchor, class: "axis",
      });
      label.textContent = fmt(t);
      parts.push(label);
    }
    return parts;
  }

  series(g, x, y, t1) {
    if (!this.points.length) return [];
    const parts = [];
    const xEnd = x(t1);
    for (const index of this.lines) {
      const color = PALETTE[index % PALETTE.length];
      let d = `M${x(this.points[0].t).toFixed(1)},${y(this.points[0].prices[index]).toFixed(1)}`;
      for (const point of this.points.slice(1)) {
        d += `H${x(point.t).toFixed(1)}V${y(point.prices[index]).toFixed(1)}`;
      }
      d += `H${xEnd.toFixed(1)}`;
      if (this.lines.length === 1) {
        const area = `${d}V${y(0)}H${x(this.points[0].t).toFixed(1)}Z`;
        parts.push(svg("path", { d: area, fill: color, "fill-opacity": 0.1, stroke: "none" }));
      }
      parts.push(svg("path", { d, fill: "none", stroke: color, "stroke-width": 2, class: "line" }));
      const last = this.points.at(-1).prices[index];
      parts.push(svg("circle", { cx: xEnd, cy: y(last), r: 3.5, fill: color }));
    }
    return parts;
  }

  hover(event) {
    const rect = this.svg.getBoundingClientRect();
    const g = this.geometry();
    const [t0, t1] = this.span();
    const px = ((event.clientX - rect.left) / rect.width) * g.width;
    const ratio = (px - g.left) / (g.width - g.left - g.right);
    this.hoverT = ratio >= 1 || ratio < 0 ? null : t0 + ratio * (t1 - t0);
    this.draw();
  }

  pointAt(t) {
    let found = this.points[0];
    for (const point of this.points) {
      if (point.t > t) break;
      found = point;
    }
    return found;
  }

  drawHover(g, x, y) {
    const point = this.hoverT === null ? this.points.at(-1) : this.pointAt(this.hoverT);
    if (!point) {
      this.readout.replaceChildren(h("span", { class: "muted" }, "No trades yet"));
      return;
    }
    if (this.hoverT !== null) {
      const cx = x(this.hoverT);
      this.svg.appendChild(svg("line", {
        x1: cx, x2: cx, y1: g.top, y2: g.height - g.bottom, class: "crosshair",
      }));
      for (const index of this.lines) {
        this.svg.appendChild(svg("circle", {
          cx, cy: y(point.prices[index]), r: 4, fill: "#fff",
          stroke: PALETTE[index % PALETTE.length], "stroke-width": 2,
        }));
      }
    }
    const when = this.hoverT === null ? "Now" : dateTime(new Date(this.hoverT).toISOString());
    this.readout.replaceChildren(
      ...this.lines.map((index) => h("span", { class: "chart-key" },
        h("span", { class: "swatch", style: `background:${PALETTE[index % PALETTE.length]}` }),
        `${this.outcomes[index].name} `, h("strong", {}, percent(point.prices[index])))),
      h("span", { class: "muted chart-when" }, when),
    );
  }

  describe() {
    const first = this.points[0];
    const last = this.points.at(-1);
    const text = !first ? "Price chart: no price history yet." : "Price chart. " + this.lines
      .map((i) => `${this.outcomes[i].name} from ${percent(first.prices[i])} to ${percent(last.prices[i])}`)
      .join("; ") + ".";
    this.svg.setAttribute("aria-label", text);
  }
}
