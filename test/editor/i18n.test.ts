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

// The help pages: one per node in every language, a translation of en-US's with the same sections
// (Node-RED's own translated headings), the same properties and paragraphs, and the code, msg
// property names and links untouched.
const HEADINGS: Record<string, Record<string, string>> = {
  de: { Inputs: "Eingangsdaten", Outputs: "Ausgangsdaten", Details: "Details", References: "Referenzen", Status: "Status", "Watson IoT": "Watson IoT" },
  "zh-CN": { Inputs: "输入", Outputs: "输出", Details: "详细", References: "参考", Status: "状态", "Watson IoT": "Watson IoT" },
};

interface HelpPage { name: string; headings: string[]; code: string[]; links: string[]; counts: Record<string, number> }

function helpPage(lang: string, node: string): HelpPage | undefined {
  const file = path.join(LOCALES, lang, `${node}.html`);
  if (!fs.existsSync(file)) return undefined;
  const html = fs.readFileSync(file, "utf8");
  const all = (re: RegExp) => [...html.matchAll(re)].map((m) => m[1].trim());
  const counts: Record<string, number> = {};
  for (const tag of ["p", "dt", "dd", "li", "h3"]) counts[tag] = (html.match(new RegExp(`<${tag}[\\s>]`, "g")) ?? []).length;
  return {
    name: /data-help-name="([^"]+)"/.exec(html)?.[1] ?? "",
    headings: all(/<h3>([^<]*)<\/h3>/g),
    code: [...new Set(all(/<code>([\s\S]*?)<\/code>/g))].sort(),
    links: [...new Set(all(/href="([^"]+)"/g))].sort(),
    counts,
  };
}

/** Every node type the package registers, by the name of its file. */
const nodeTypes = Object.keys((JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { "node-red": { nodes: Record<string, string> } })["node-red"].nodes).sort();

describe("help pages", () => {
  it("exist for every node in en-US, de and zh-CN, each naming its node", () => {
    const missing: string[] = [];
    for (const lang of ["en-US", ...LANGS]) {
      for (const node of nodeTypes) {
        const page = helpPage(lang, node);
        if (!page) missing.push(`${lang}/${node}.html`);
        else should(page.name).equal(node, `${lang}/${node}.html: data-help-name`);
      }
    }
    should(missing).eql([]);
  });

  for (const lang of LANGS) {
    it(`${lang}: the same sections as en-US, under Node-RED's ${lang} headings`, () => {
      for (const node of nodeTypes) {
        const en = helpPage("en-US", node);
        const other = helpPage(lang, node);
        if (!en || !other) continue; // reported by the test above
        const expected = en.headings.map((h) => HEADINGS[lang][h] ?? `(no ${lang} heading for "${h}": add it to HEADINGS)`);
        should({ [node]: other.headings }).eql({ [node]: expected });
      }
    });

    it(`${lang}: every paragraph, property and item of en-US, with the code, msg properties and links unchanged`, () => {
      for (const node of nodeTypes) {
        const en = helpPage("en-US", node);
        const other = helpPage(lang, node);
        if (!en || !other) continue;
        should({ [node]: other.counts }).eql({ [node]: en.counts }, `${lang}/${node}.html: <p>, <dt>, <dd>, <li> counts`);
        should({ [node]: en.code.filter((c) => !other.code.includes(c)) }).eql({ [node]: [] }, `${lang}/${node}.html lacks code that en-US has`);
        should({ [node]: other.code.filter((c) => !en.code.includes(c)) }).eql({ [node]: [] }, `${lang}/${node}.html has code that en-US does not`);
        should({ [node]: other.links }).eql({ [node]: en.links }, `${lang}/${node}.html: links`);
      }
    });
  }
});

// Units and labels: every field holding a time or a size says its unit beside it, from the
// catalogue, and a unit reads the same in every dialog of a language (s is never "sec" in one
// dialog and "s" in another); palette labels fit the palette (about 20 characters).
const MEASURED = /^(timeout|ackTimeout|keepalive|reconnectMin|reconnectMax|batchWindow|maxPayload|storeMaxMB|storeMaxAgeH|statsPeriod|delay|period|reportPeriod|autoAnswer|duration)$/;

describe("units and labels", () => {
  const dialogs = fs.readdirSync(path.join(ROOT, "nodes")).filter((f) => f.endsWith(".html"));

  it("every time or size field says its unit beside it, from the catalogue", () => {
    const missing: string[] = [];
    let fields = 0;
    for (const file of dialogs) {
      for (const line of fs.readFileSync(path.join(ROOT, "nodes", file), "utf8").split("\n")) {
        const m = /<input type="text" id="node-(?:config-)?input-(\w+)"/.exec(line);
        if (!m || !MEASURED.test(m[1])) continue;
        fields++;
        if (!/<span data-i18n="[\w-]+\.unit\.\w+"><\/span>/.test(line.slice(m.index))) missing.push(`${file}: ${m[1]}`);
      }
    }
    should(fields).be.above(15);
    should(missing).eql([]);
  });

  for (const lang of ["en-US", ...LANGS]) {
    it(`${lang}: a unit reads the same in every catalogue`, () => {
      const seen = new Map<string, Set<string>>();
      for (const name of names) {
        for (const [k, v] of catalogue(lang, name)) {
          const u = /^[\w-]+\.unit\.(s|ms|h|bytes|MiB|msgs)$/.exec(k);
          if (u) seen.set(u[1], new Set([...(seen.get(u[1]) ?? []), v]));
        }
      }
      should(Object.fromEntries([...seen].filter(([, v]) => v.size > 1).map(([k, v]) => [k, [...v]]))).eql({});
    });
  }

  it("palette labels fit the palette", () => {
    const long: string[] = [];
    for (const file of dialogs) {
      const text = fs.readFileSync(path.join(ROOT, "nodes", file), "utf8");
      const type = /registerType\("([\w-]+)"/.exec(text)?.[1] ?? file;
      const label = /paletteLabel:\s*"([^"]*)"/.exec(text)?.[1] ?? type;
      if (label.length > 20) long.push(`${type}: "${label}"`);
    }
    should(long).eql([]);
  });
});
