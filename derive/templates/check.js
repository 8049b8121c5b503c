// The grader's judgement in the page: derive/classroom/grading.py's grade(), line by line,
// run on the model derive/classroom/check.py compiled from the derivation (MODEL, FUNCTIONS).
// Kept in step with grading.py; tests/browser/test_check_page.py compares the two on many
// random answer sheets.
"use strict";

// --- numbers as derive/engine/numeric.py computes them -------------------------------------
class Failed extends Error {}
const F = {
  sum(terms) {  // math.fsum: Shewchuk's exact partials, rounded once
    if (terms.some((t) => t === Infinity) && terms.some((t) => t === -Infinity)) throw new Failed("inf - inf");
    if (terms.some((t) => !Number.isFinite(t))) return terms.reduce((a, b) => a + b, 0);
    const partials = [];
    for (let x of terms) {
      let i = 0;
      for (let y of partials) {
        if (Math.abs(x) < Math.abs(y)) [x, y] = [y, x];
        const hi = x + y, lo = y - (hi - x);
        if (lo) partials[i++] = lo;
        x = hi;
      }
      partials.length = i;
      partials.push(x);
    }
    if (partials.some((p) => !Number.isFinite(p))) throw new Failed("overflow");
    let n = partials.length, hi = 0, lo = 0;
    if (n > 0) {
      hi = partials[--n];
      while (n > 0) {
        const x = hi, y = partials[--n];
        hi = x + y; const yr = hi - x; lo = y - yr;
        if (lo) break;
      }
      if (n > 0 && ((lo < 0 && partials[n - 1] < 0) || (lo > 0 && partials[n - 1] > 0))) {
        const y = lo * 2, x = hi + y, yr = x - hi;
        if (y === yr) hi = x;
      }
    }
    return hi;
  },
  pow(base, power) {
    if (base === 0 && power < 0) throw new Failed("division by zero");
    const result = base ** power;
    if (Number.isNaN(result) && !Number.isNaN(base) && !Number.isNaN(power)) throw new Failed("not real");
    if (!Number.isFinite(result) && Number.isFinite(base) && Number.isFinite(power)) throw new Failed("overflow");
    return result;
  },
  exp(x) { const r = Math.exp(x); if (r === Infinity && Number.isFinite(x)) throw new Failed("overflow"); return r; },
  log(x) { if (x <= 0) throw new Failed("log"); return Math.log(x); },
  tanh: Math.tanh, abs: Math.abs, sin: Math.sin, cos: Math.cos,
  sinh(x) { const r = Math.sinh(x); if (!Number.isFinite(r) && Number.isFinite(x)) throw new Failed("overflow"); return r; },
  cosh(x) { const r = Math.cosh(x); if (!Number.isFinite(r) && Number.isFinite(x)) throw new Failed("overflow"); return r; },
  sign(x) { return x > 0 ? 1 : x < 0 ? -1 : 0; },
  heaviside(x) { return x > 0 ? 1 : x < 0 ? 0 : 0.5; },
  nobranch() { throw new Failed("no branch"); },
  sigmoidPrime(a) { const s = 1 / (1 + Math.exp(-a)); return s * (1 - s); },
  tanhPrime(a) { return 1 - Math.tanh(a) ** 2; },
};

// --- the rounding policy (derive/engine/policy.py), in decimal digits ----------------------
// A decimal is {neg, ds, exp}: ±ds x 10^exp, ds a string of digits.
function decimalOf(x) {
  const [mantissa, e] = Math.abs(x).toExponential().split("e");
  const [whole, fraction = ""] = mantissa.split(".");
  return { neg: x < 0 || Object.is(x, -0), ds: whole + fraction, exp: Number(e) - fraction.length };
}
const isZero = (d) => /^0*$/.test(d.ds);
const adjusted = (d) => { const ds = d.ds.replace(/^0+/, "") || "0"; return d.exp + ds.length - 1; };
function quantize(d, q, rounding) {
  if (d.exp >= q) return { neg: d.neg, ds: d.ds + "0".repeat(d.exp - q), exp: q };
  const k = q - d.exp;
  const ds = d.ds.length <= k ? "0".repeat(k - d.ds.length + 1) + d.ds : d.ds;
  let kept = ds.slice(0, ds.length - k);
  const rest = ds.slice(ds.length - k);
  let up = false;
  if (rounding === "half_up") up = rest[0] >= "5";
  else if (rounding === "half_even") {
    up = rest[0] > "5" || (rest[0] === "5" && (/[1-9]/.test(rest.slice(1)) || Number(kept[kept.length - 1]) % 2 === 1));
  }
  if (up) kept = (BigInt(kept) + 1n).toString();
  return { neg: d.neg, ds: kept, exp: q };
}
const toNumber = (d) => Number((d.neg ? "-" : "") + d.ds + "e" + d.exp);
function clean(x, digits) {
  const d = decimalOf(x);
  if (x === 0 || digits >= 17) return d;
  return quantize(d, adjusted(d) - digits + 1, "half_even");
}
function toDecimal(x, digits, mode, rounding) {
  const exact = decimalOf(x);
  if (x === 0) return { neg: false, ds: "0", exp: 0 };
  const kept = mode === "significant" ? digits : adjusted(exact) + 1 + digits;
  const cleaned = clean(x, Math.max(12, kept + 3));
  if (isZero(cleaned)) return { neg: false, ds: "0", exp: 0 };
  const q = mode === "significant" ? adjusted(cleaned) - digits + 1 : -digits;
  return quantize(cleaned, q, rounding);
}
const P = MODEL.policy;
const digitsFor = (kind) => P.digits[kind];
const roundAt = (x, digits, mode) => toNumber(toDecimal(x, digits, mode, P.rounding));
const policyRound = (x, kind) => roundAt(x, digitsFor(kind), P.mode);

// --- derive/views/key.py ------------------------------------------------------------------
function roundingRadius(value, kind) {
  const digits = digitsFor(kind);
  if (!Number.isFinite(value)) return 0;
  let exponent;
  if (P.mode === "significant") {
    if (value === 0) return 0;
    const rounded = toDecimal(value, digits, P.mode, P.rounding);
    if (isZero(rounded)) return 0;
    exponent = adjusted(rounded) - digits + 1;
  } else exponent = -digits;
  const unit = Number("1e" + exponent);
  return P.rounding === "truncate" ? unit : unit / 2;
}
function spread(step, v, boxes) {
  const termValues = step.terms.map((t) => FUNCTIONS[t](v));
  const center = F.sum(termValues);
  let down = 0, up = 0;
  for (const symbol of step.inputs) {
    const box = boxes[symbol];
    if (box === undefined) continue;
    const held = v[symbol];
    let lowest = 0, highest = 0;
    for (const end of box) {
      if (end === held) continue;
      v[symbol] = end;
      let moved;
      try {
        moved = F.sum((step.holding[symbol] || []).map((i) => FUNCTIONS[step.terms[i]](v) - termValues[i]));
      } catch (error) { if (error instanceof Failed) continue; throw error; } finally { v[symbol] = held; }
      if (Number.isFinite(moved)) { lowest = Math.min(lowest, moved); highest = Math.max(highest, moved); }
    }
    down += lowest; up += highest;
  }
  return [center, center + down, center + up];
}
function widened(kind, low, high) {
  const radius = Math.max(roundingRadius(low, kind), roundingRadius(high, kind));
  low -= radius; high += radius;
  const noise = 1e-12 + 1e-9 * Math.max(Math.abs(low), Math.abs(high));
  return [low - noise, high + noise];
}
const within = (given, interval) => interval[0] <= given && given <= interval[1];

// --- derive/classroom/answers.py --------------------------------------------------------
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/, FRACTION = /^[+-]?\d+\s*\/\s*[+-]?\d+$/, COMMA = /^[+-]?\d*,\d+$/;
const tidy = (text) => text.trim().replace(/[\u2212\u2013\u2014\ufe63\uff0d]/g, "-").replace(/ /g, "").replace(/\u00a0/g, "");
function parseAnswer(text) {
  let cleaned = tidy(text);
  if (!cleaned) return { text, value: null, problem: null };
  if (cleaned.length > 64) return { text, value: null, problem: "too long to be a number" };
  if (COMMA.test(cleaned)) cleaned = cleaned.replace(",", ".");
  if (NUMBER.test(cleaned)) return { text, value: Number(cleaned), problem: null };
  if (FRACTION.test(cleaned)) {
    const [n, d] = cleaned.split("/").map((part) => Number(part.trim()));
    if (d === 0) return { text, value: null, problem: "division by zero" };
    return { text, value: n / d, problem: null };
  }
  return { text, value: null, problem: "not a number" };
}
function writtenDigits(text) {
  let cleaned = tidy(text);
  if (COMMA.test(cleaned)) cleaned = cleaned.replace(",", ".");
  if (cleaned.length > 64 || !NUMBER.test(cleaned)) return null;
  const [mantissa, e = "0"] = cleaned.replace(/^[+-]/, "").split(/[eE]/);
  const [whole, fraction = ""] = mantissa.split(".");
  const coefficient = (whole + fraction).replace(/^0+/, "") || "0";
  const exponent = Number(e) - fraction.length;
  return [/[1-9]/.test(coefficient) ? coefficient.length : 1, Math.max(0, -exponent)];
}

// --- derive/classroom/grading.py ----------------------------------------------------------
function trace(model, answers, sheet, override) {
  const v = model.values.slice(), boxes = {};
  const t = { own: {}, interval: {}, used: {}, answered: {}, sources: {}, blanks: {} };
  for (const step of model.steps) {
    let center, interval;
    try {
      const replaced = override && override[step.id] !== undefined ? FUNCTIONS[override[step.id]](v) : null;
      let low, high;
      if (replaced !== null) center = low = high = replaced;
      else [center, low, high] = spread(step, v, boxes);
      interval = Number.isFinite(low) && Number.isFinite(high) ? widened(step.kind, low, high) : [NaN, NaN];
    } catch (error) {
      if (!(error instanceof Failed)) throw error;
      center = NaN; interval = [NaN, NaN];
    }
    t.own[step.id] = center; t.interval[step.id] = interval;
    const sources = new Set(), blanks = new Set();
    for (const dep of step.deps) {
      if (dep in t.answered) sources.add(dep);
      else if (sheet.has(dep)) blanks.add(dep);
      else { t.sources[dep].forEach((s) => sources.add(s)); t.blanks[dep].forEach((b) => blanks.add(b)); }
    }
    t.sources[step.id] = sources; t.blanks[step.id] = blanks;
    const answer = answers[step.id];
    const given = answer ? answer.value : null;
    if (given !== null && Number.isFinite(given)) {
      t.answered[step.id] = given;
      const radius = roundingRadius(given, step.kind);
      v[step.symbol] = given; boxes[step.symbol] = [given - radius, given + radius];
    } else { v[step.symbol] = center; boxes[step.symbol] = interval; }
    t.used[step.id] = v[step.symbol];
  }
  return t;
}

function noCarry(step, t, statuses) {
  if (t.blanks[step.id].size) return "upstream_blank";
  for (const source of t.sources[step.id]) {
    const value = t.answered[source];
    if (statuses[source] !== "correct" && MODEL.givens.some((g) => Math.abs(value - g) <= 1e-12 + 1e-9 * Math.abs(g))) return "upstream_copied_given";
  }
  const degenerate = [];
  for (const dep of step.deps) {
    const value = t.used[dep];
    if ((value === 0 || value === 1) && !within(value, MODEL.key[dep])) degenerate.push([dep, value]);
  }
  if (!degenerate.length) return null;
  if (degenerate.some(([dep]) => step.products.includes(dep))) return "upstream_zero_or_one";
  // Only inputs outside every product are left: check.py tabled their 0/1 combinations.
  return step.trivial[degenerate.map(([dep, value]) => `${dep}=${value}`).join(",")] ? "upstream_zero_or_one" : null;
}

let mistakeRuns = null;
function mistakes(answers, sheet) {
  if (mistakeRuns) return mistakeRuns;
  mistakeRuns = MODEL.mistakes.map((m) => [m.name, trace(MODEL, answers, sheet, m.steps), m.exact]);
  if (MODEL.other) {
    const otherSheet = new Set([...sheet].filter((id) => id in MODEL.other_exact));
    mistakeRuns.push(["weight_order_swapped", trace(MODEL.other, answers, otherSheet, null), MODEL.other_exact]);
  }
  return mistakeRuns;
}

function likelyMistake(given, written, step, t, answers, sheet) {
  const key = MODEL.key[step.id];
  const own = t.own[step.id], interval = t.interval[step.id];
  const hasOwn = Number.isFinite(own) && interval.every(Number.isFinite);
  if (given && (within(-given, key) || (hasOwn && within(-given, interval)))) return "sign_error";
  const digits = digitsFor(step.kind);
  const w = written === null ? null : written[P.mode === "significant" ? 0 : 1];
  if (w !== null && w < digits) {
    const right = [...MODEL.right[step.id], hasOwn ? own : NaN].filter((x) => x !== null && Number.isFinite(x));
    if (right.some((value) => Math.abs(given - roundAt(value, w, P.mode)) <= 1e-12 * Math.max(1, Math.abs(given)))) return "too_few_digits";
  }
  for (const [name, through, exact] of mistakes(answers, sheet)) {
    const candidate = through.own[step.id] ?? NaN, [low, high] = through.interval[step.id] ?? [NaN, NaN];
    const exactCandidate = exact[step.id] ?? NaN;
    if (![candidate, low, high, exactCandidate].every(Number.isFinite)) continue;
    const differs = !within(candidate, hasOwn ? interval : key);
    const radius = roundingRadius(exactCandidate, step.kind);
    if (differs && Math.min(low, exactCandidate - radius) <= given && given <= Math.max(high, exactCandidate + radius)) return name;
  }
  const unit = 2 * roundingRadius(given, step.kind);
  const writtenOut = P.rounding !== "truncate" && unit && policyRound(given, step.kind) === given;
  if (writtenOut && [key, interval].some(([low, high]) => Number.isFinite(low) && low - unit <= given && given <= high + unit)) return "last_digit_off";
  return null;
}

function grade(texts) {
  const answers = {};
  for (const [id, text] of Object.entries(texts)) answers[id] = parseAnswer(text);
  const sheet = new Set([...MODEL.asked, ...Object.keys(texts)]);
  mistakeRuns = null;
  const t = trace(MODEL, answers, sheet, null);
  const statuses = {}, results = {};
  for (const step of MODEL.steps) {
    if (!sheet.has(step.id)) continue;
    const answer = answers[step.id] || parseAnswer("");
    const result = { status: "blank", mistake: null };
    if (answer.problem) { result.status = "invalid"; result.mistake = answer.problem; }
    else if (answer.value !== null) {
      const given = answer.value, own = t.own[step.id];
      const right = within(given, MODEL.key[step.id]);
      const consistent = Number.isFinite(own) && within(given, t.interval[step.id]);
      const upstreamRight = !t.blanks[step.id].size && [...t.sources[step.id]].every((s) => statuses[s] === "correct");
      const blocked = consistent && !right && !upstreamRight ? noCarry(step, t, statuses) : null;
      if (right || (consistent && upstreamRight)) result.status = "correct";
      else if (consistent && blocked === null) result.status = "carried";
      else {
        result.status = "wrong";
        result.mistake = blocked || likelyMistake(given, writtenDigits(answer.text), step, t, answers, sheet);
      }
    }
    statuses[step.id] = result.status;
    results[step.id] = result;
  }
  return results;
}
