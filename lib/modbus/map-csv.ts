// CSV form of a register map, for spreadsheets. One entry per line, this header:
//   key,area,address,type,bit,length,order,scale,offset,round,target,writable,report,deadband,periodMs
// Empty cells take the defaults. `deadband` is absolute ("0.5") or percent ("2%").
// Fields are quoted RFC 4180 style when they hold a comma, quote or line break.
import { validateMap, type MapValidation } from "./register-map";
import type { MapEntry } from "./types";

export const CSV_COLUMNS = [
  "key", "area", "address", "type", "bit", "length", "order", "scale", "offset", "round",
  "target", "writable", "report", "deadband", "periodMs",
] as const;

type Column = (typeof CSV_COLUMNS)[number];

/** Splits CSV text into rows of cells, honouring quotes. */
export function parseCsvRows(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(cell); cell = ""; }
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(cell); rows.push(row); row = []; cell = "";
    } else cell += c;
  }
  if (cell !== "" || row.length) { row.push(cell); rows.push(row); }
  return rows.filter((r) => r.some((c) => c.trim() !== ""));
}

function num(cell: string): number | string {
  const n = Number(cell);
  return cell.trim() !== "" && Number.isFinite(n) ? n : cell;
}

/**
 * CSV to entries as written, before validation (the editor shows every row, the bad ones
 * flagged); `errors` are problems of the CSV itself (empty, header).
 */
export function csvToRawEntries(text: string): { raws: Array<Record<string, unknown>>; errors: string[] } {
  const rows = parseCsvRows(text.replace(/^\uFEFF/, ""));
  if (rows.length === 0) return { raws: [], errors: ["register map CSV is empty"] };
  const header = rows[0].map((h) => h.trim());
  const unknown = header.filter((h) => !(CSV_COLUMNS as readonly string[]).includes(h));
  const errors: string[] = [];
  if (unknown.length) errors.push(`CSV header: unknown column(s) ${unknown.join(", ")}; expected ${CSV_COLUMNS.join(",")}`);
  for (const need of ["key", "area", "address", "type"]) {
    if (!header.includes(need)) errors.push(`CSV header: missing column ${need}`);
  }
  if (errors.length) return { raws: [], errors };
  const raws = rows.slice(1).map((cells) => {
    const get = (c: Column): string | undefined => {
      const i = header.indexOf(c);
      const v = i >= 0 ? cells[i]?.trim() : undefined;
      return v === "" ? undefined : v;
    };
    const o: Record<string, unknown> = { key: get("key"), area: get("area"), type: get("type") };
    const address = get("address");
    if (address !== undefined) o.address = num(address);
    for (const c of ["bit", "length", "scale", "offset", "round"] as const) {
      const v = get(c);
      if (v !== undefined) o[c] = num(v);
    }
    for (const c of ["order", "target"] as const) {
      const v = get(c);
      if (v !== undefined) o[c] = v;
    }
    const w = get("writable");
    if (w !== undefined) o.writable = /^(true|yes|1)$/i.test(w) ? true : /^(false|no|0)$/i.test(w) ? false : w;
    const mode = get("report");
    const deadband = get("deadband");
    const period = get("periodMs");
    if (mode !== undefined || deadband !== undefined || period !== undefined) {
      const report: Record<string, unknown> = { mode: mode ?? "every-poll" };
      if (deadband !== undefined) {
        if (deadband.endsWith("%")) report.deadbandPercent = num(deadband.slice(0, -1));
        else report.deadband = num(deadband);
      }
      if (period !== undefined) report.periodMs = num(period);
      o.report = report;
    }
    return o;
  });
  return { raws, errors: [] };
}

/** Parses CSV into a validated map; errors name the CSV line as well as the entry. */
export function parseMapCsv(text: string): MapValidation {
  const { raws, errors } = csvToRawEntries(text);
  if (errors.length) return { entries: [], errors };
  const result = validateMap(raws);
  // "entry N" counts data rows; the CSV line is N + 1 (the header is line 1).
  result.errors = result.errors.map((e) => e.replace(/^entry (\d+)/, (_m, n: string) => `line ${Number(n) + 1}: entry ${n}`));
  return result;
}

function quote(cell: string): string {
  return /[",\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}

export function mapToCsv(entries: readonly MapEntry[]): string {
  const lines = [CSV_COLUMNS.join(",")];
  for (const e of entries) {
    const r = e.report;
    const deadband = r?.deadbandPercent !== undefined ? `${r.deadbandPercent}%` : r?.deadband;
    const cells: Record<Column, unknown> = {
      key: e.key, area: e.area, address: e.address, type: e.type, bit: e.bit, length: e.length,
      order: e.order ?? "ABCD", scale: e.scale, offset: e.offset, round: e.round,
      target: e.target ?? "telemetry", writable: e.writable ? "true" : "false",
      report: r?.mode ?? "every-poll", deadband, periodMs: r?.periodMs,
    };
    lines.push(CSV_COLUMNS.map((c) => (cells[c] === undefined ? "" : quote(String(cells[c])))).join(","));
  }
  return lines.join("\n") + "\n";
}
