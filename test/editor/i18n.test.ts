// The message catalogues: every key a dialog or a runtime file names exists in en-US, and de and
// zh-CN hold exactly en-US's keys, with the same __placeholders__ in each string.
import * as fs from "fs";
import * as path from "path";
import should from "should";

const ROOT = path.resolve(__dirname, "../../..");
const LOCALES = path.join(ROOT, "nodes", "locales");
const LANGS = ["de", "zh-CN"];

type Catalogue = Record<string, unknown>;

function flat(o: Catalogue, prefix = ""): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(o)) {
    if (v && typeof v === "object") for (const [kk, vv] of flat(v as Catalogue, `${prefix}${k}.`)) out.set(kk, vv);
    else out.set(prefix + k, String(v));
  }
  return out;
}

function catalogue(lang: string, name: string): Map<string, string> {
  return flat(JSON.parse(fs.readFileSync(path.join(LOCALES, lang, `${name}.json`), "utf8")) as Catalogue);
}

const names = fs.readdirSync(path.join(LOCALES, "en-US")).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)).sort();
const placeholders = (s: string) => (s.match(/__\w+__/g) ?? []).sort();

/** Keys the sources name: data-i18n="[attr]key;key", this._("key"), t("key"), RED._("key"). */
function keysUsed(): Array<{ file: string; key: string }> {
  const files = [
    ...fs.readdirSync(path.join(ROOT, "nodes")).filter((f) => /\.(html|ts)$/.test(f)).map((f) => path.join(ROOT, "nodes", f)),
    ...fs.readdirSync(path.join(ROOT, "nodes", "common")).map((f) => path.join(ROOT, "nodes", "common", f)),
    path.join(ROOT, "resources", "editor.js"),
    path.join(ROOT, "resources", "sidebar.js"),
  ];
  const used: Array<{ file: string; key: string }> = [];
  for (const file of files) {
    const text = fs.readFileSync(file, "utf8");
    // the sidebar's t(key) names keys under gateway-config.sidebar
    if (file.endsWith("sidebar.js")) for (const m of text.matchAll(/\bt\("([\w-]+)"/g)) used.push({ file, key: `gateway-config.sidebar.${m[1]}` });
    for (const m of text.matchAll(/data-i18n="([^"]+)"/g)) {
      for (const part of m[1].split(";")) used.push({ file, key: part.replace(/^\[[^\]]+\]/, "") });
    }
    // a dialog's own t(key) names keys of its node's catalogue without the namespace
    const own = path.basename(file).replace(/\.(html|ts)$/, "");
    for (const m of text.matchAll(/(RED\._|\b_|\bt)\(\s*(?:node,\s*)?"([a-z-]+\.[\w.-]*\w)"/g)) {
      const bare = m[1] === "t" && !names.includes(m[2].split(".")[0]);
      used.push({ file, key: bare ? `${own}.${m[2]}` : m[2] });
    }
  }
  return used;
}

describe("message catalogues", () => {
  it("de and zh-CN have a catalogue for every en-US one, with the same keys and placeholders", () => {
    for (const lang of LANGS) {
      should(fs.readdirSync(path.join(LOCALES, lang)).filter((f) => f.endsWith(".json")).sort()).eql(names.map((n) => `${n}.json`), `${lang}: catalogues`);
      for (const name of names) {
        const en = catalogue("en-US", name);
        const other = catalogue(lang, name);
        should({ [`${lang}/${name}`]: [...en.keys()].filter((k) => !other.has(k)) }).eql({ [`${lang}/${name}`]: [] }, "keys missing");
        should({ [`${lang}/${name}`]: [...other.keys()].filter((k) => !en.has(k)) }).eql({ [`${lang}/${name}`]: [] }, "keys en-US does not have");
        for (const [k, v] of en) should(placeholders(other.get(k) ?? "")).eql(placeholders(v), `${lang}/${name}: ${k} placeholders`);
      }
    }
  });

  it("holds every key the dialogs, the shared editor script and the runtime name", () => {
    const en = new Map<string, Map<string, string>>(names.map((n) => [n, catalogue("en-US", n)]));
    const missing = keysUsed().filter(({ key }) => {
      const ns = key.split(".")[0];
      const cat = en.get(ns);
      // keys of Node-RED's own catalogues (node-red:common.label.name…) are not ours
      if (key.includes(":")) return false;
      return !cat || !cat.has(key);
    }).map(({ file, key }) => `${path.relative(ROOT, file)}: ${key}`);
    should([...new Set(missing)]).eql([]);
  });
});
