// What the Flow Library and npm show of the package: package.json's repository, bugs and homepage
// name one repository, and every link and picture of the README works from the published
// package (npm and the Flow Library show the README without the repository beside it): a
// relative link must name a file the tarball ships, anything else is an absolute link into that
// same repository, or an anchor of the README itself.
import * as fs from "fs";
import * as path from "path";
import should from "should";

const ROOT = path.resolve(__dirname, "../../..");
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
  repository: { type: string; url: string }; bugs: { url: string }; homepage: string; files: string[];
};
const README = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");

/** https://github.com/<owner>/<name>, from repository.url (git+https://…/<name>.git). */
const repo = pkg.repository.url.replace(/^git\+/, "").replace(/\.git$/, "");

function links(): string[] {
  const prose = README.replace(/```[\s\S]*?```/g, "");
  return [
    ...[...prose.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]),
    ...[...prose.matchAll(/<(?:img|a)\b[^>]*\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]),
  ];
}

function anchors(): Set<string> {
  const out = new Set<string>();
  for (const m of README.replace(/```[\s\S]*?```/g, "").matchAll(/^#{1,6}\s+(.+)$/gm)) {
    out.add(m[1].trim().toLowerCase().replace(/[^\p{L}\p{N}\s-]/gu, "").replace(/\s/g, "-"));
  }
  return out;
}

const shipped = (file: string) => pkg.files.some((f) => file === f || file.startsWith(f.replace(/\/$/, "") + "/"));

describe("package metadata and README links", () => {
  it("repository, bugs and homepage name the same GitHub repository", () => {
    should(pkg.repository.type).equal("git");
    should(repo).match(/^https:\/\/github\.com\/[\w.-]+\/[\w.-]+$/);
    should(pkg.bugs.url).equal(`${repo}/issues`);
    should(pkg.homepage).equal(`${repo}#readme`);
  });

  it("every README link works from the published package", () => {
    const [, owner, name] = /github\.com\/([\w.-]+)\/([\w.-]+)$/.exec(repo) ?? [];
    const ours = [`${repo}/`, `https://raw.githubusercontent.com/${owner}/${name}/`];
    const bad: string[] = [];
    const known = anchors();
    for (const link of links()) {
      if (link.startsWith("#")) {
        if (!known.has(link.slice(1))) bad.push(`${link}: no such heading`);
      } else if (/^https?:\/\//.test(link)) {
        // into our repository: the same one package.json names, and a file that is there
        const m = /^https:\/\/(?:github\.com\/[\w.-]+\/[\w.-]+\/(?:blob|tree)\/[^/]+|raw\.githubusercontent\.com\/[\w.-]+\/[\w.-]+\/[^/]+)\/([^#?]+)/.exec(link);
        if (/github(usercontent)?\.com\/iot-gateway\//.test(link) || ours.some((o) => link.startsWith(o))) {
          if (!ours.some((o) => link.startsWith(o))) bad.push(`${link}: not the repository package.json names (${repo})`);
          else if (m && !fs.existsSync(path.join(ROOT, m[1]))) bad.push(`${link}: ${m[1]} is not in the repository`);
        }
      } else if (!/^[a-z]+:/.test(link)) {
        const file = link.replace(/[#?].*$/, "").replace(/^\.\//, "");
        if (!shipped(file)) bad.push(`${link}: relative, but ${file} is not in the published package (make it absolute: ${repo}/blob/main/${file})`);
        else if (!fs.existsSync(path.join(ROOT, file))) bad.push(`${link}: no such file`);
      }
    }
    should(bad).eql([]);
  });
});
