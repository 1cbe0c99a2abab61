import { describe, expect, it } from "vitest";
import { emptyWorkspace, loadWorkspace } from "./storage";
import { pickLanguage, replaceProgram, wouldReplaceWork } from "./workspace";

const template = (id: number) => (id === 71 ? 'print("hi")\n' : "int main(){}\n");
const langs = [
  { id: 50, name: "C (GCC 12)" },
  { id: 71, name: "Python (3.11)" },
];

describe("opening another program", () => {
  it("keeps what was in the editor as previous, and swaps back", () => {
    const w = { ...emptyWorkspace(), languageId: 71, code: { "71": "mine()" }, stdin: "my input" };
    const opened = replaceProgram(w, { languageId: 71, code: "shared()", stdin: "theirs" }, template);
    expect(opened).toMatchObject({ languageId: 71, code: { "71": "shared()" }, stdin: "theirs", previous: { languageId: 71, code: "mine()", stdin: "my input" } });
    const back = replaceProgram(opened, opened.previous!, template);
    expect(back).toMatchObject({ languageId: 71, code: { "71": "mine()" }, stdin: "my input", previous: { languageId: 71, code: "shared()", stdin: "theirs" } });
  });
  it("keeps the starting program as previous when the user never edited", () => {
    const w = { ...emptyWorkspace(), languageId: 50 };
    expect(replaceProgram(w, { languageId: 71, code: "x", stdin: "" }, template).previous).toEqual({ languageId: 50, code: "int main(){}\n", stdin: "", files: [] });
  });
  it("does not overwrite previous when opening what is already there", () => {
    const w = { ...emptyWorkspace(), languageId: 71, code: { "71": "same" }, previous: { languageId: 50, code: "old", stdin: "" } };
    expect(replaceProgram(w, { languageId: 71, code: "same", stdin: "" }, template).previous).toEqual({ languageId: 50, code: "old", stdin: "" });
  });
  it("takes test cases, arguments and compiler options only when given, per language", () => {
    const w = { ...emptyWorkspace(), languageId: 50, args: "a", tests: [{ stdin: "1", expected_output: "1" }], compilerOptions: { "50": "-O2" } };
    const plain = replaceProgram(w, { languageId: 71, code: "x", stdin: "" }, template);
    expect(plain).toMatchObject({ args: "a", tests: w.tests, compilerOptions: { "50": "-O2" } });
    const full = replaceProgram(w, { languageId: 50, code: "y", stdin: "", tests: [], args: "", compilerOptions: "-Wall" }, template);
    expect(full).toMatchObject({ args: "", tests: [], compilerOptions: { "50": "-Wall" } });
  });
  it("knows when it would replace the user's work", () => {
    const w = { ...emptyWorkspace(), languageId: 71, code: { "71": "mine()" } };
    expect(wouldReplaceWork(w, { languageId: 71, code: "other", stdin: "" }, template)).toBe(true);
    expect(wouldReplaceWork(w, { languageId: 71, code: "mine()", stdin: "" }, template)).toBe(false);
    // Another language the user never edited: nothing is lost.
    expect(wouldReplaceWork(w, { languageId: 50, code: "other", stdin: "" }, template)).toBe(false);
    // The untouched starting program is not work.
    expect(wouldReplaceWork({ ...w, code: { "71": template(71) } }, { languageId: 71, code: "other", stdin: "" }, template)).toBe(false);
    expect(wouldReplaceWork({ ...w, stdin: "typed" }, { languageId: 50, code: "x", stdin: "" }, template)).toBe(true);
    expect(wouldReplaceWork({ ...w, tests: [{ stdin: "1", expected_output: "2" }] }, { languageId: 50, code: "x", stdin: "", tests: [{ stdin: "3", expected_output: "4" }] }, template)).toBe(true);
  });
  it("opens a program's files with it, keeps the replaced ones as previous, and swaps back", () => {
    const mine = [{ name: "helper.py", content: "X = 1\n" }];
    const theirs = [{ name: "helper.py", content: "X = 2\n" }, { name: "more.py", content: "" }];
    const w = { ...emptyWorkspace(), languageId: 71, code: { "71": "import helper" }, files: { "71": mine } };
    const opened = replaceProgram(w, { languageId: 71, code: "import helper", stdin: "", files: theirs }, template);
    expect(opened.files["71"]).toEqual(theirs);
    expect(opened.previous).toEqual({ languageId: 71, code: "import helper", stdin: "", files: mine });
    const back = replaceProgram(opened, opened.previous!, template);
    expect(back.files["71"]).toEqual(mine);
    // A program without files (an old link, a gateway's history) has none.
    expect(replaceProgram(w, { languageId: 71, code: "y", stdin: "" }, template).files["71"]).toEqual([]);
    // A multi-file program's main file name comes and goes with it.
    const multi = replaceProgram(w, { languageId: 89, code: "", stdin: "", files: theirs, mainName: "prog.c" }, template);
    expect(multi.mainName).toEqual({ "89": "prog.c" });
    expect(replaceProgram(multi, { languageId: 89, code: "", stdin: "", files: theirs }, template).mainName).toEqual({});
  });
  it("counts changed files as work, the starting files not", () => {
    const start = (id: number) => (id === 89 ? [{ name: "run", content: "./main\n" }] : []);
    const w = { ...emptyWorkspace(), languageId: 89, code: { "89": template(89) } };
    const other = { languageId: 89, code: template(89), stdin: "", files: [{ name: "run", content: "./other\n" }] };
    expect(wouldReplaceWork(w, other, template, start)).toBe(false);
    expect(wouldReplaceWork({ ...w, files: { "89": start(89) } }, other, template, start)).toBe(false);
    expect(wouldReplaceWork({ ...w, files: { "89": [{ name: "run", content: "./edited\n" }] } }, other, template, start)).toBe(true);
    expect(wouldReplaceWork({ ...w, files: { "89": other.files } }, other, template, start)).toBe(false);
  });
  it("finds the language by id, else by name", () => {
    expect(pickLanguage(langs, 71)).toBe(71);
    expect(pickLanguage(langs, 92, "Python (3.11)")).toBe(71);
    expect(pickLanguage(langs, 92, "Python (3.8)")).toBeNull();
  });
});

describe("saved workspaces", () => {
  function stored(o: unknown) {
    return { getItem: () => JSON.stringify(o) };
  }
  it("keeps compiler options per language; old global options go to the language then in use", () => {
    expect(loadWorkspace(stored({ languageId: 50, compilerOptions: "-O2" })).compilerOptions).toEqual({ "50": "-O2" });
    expect(loadWorkspace(stored({ compilerOptions: { "50": "-O2", "71": 5, x: "y" } })).compilerOptions).toEqual({ "50": "-O2" });
  });
  it("treats settings saved before 'chosen' existed as chosen where they differ from the defaults", () => {
    expect(loadWorkspace(stored({ settings: { theme: "dark", vim: false } })).settings.chosen).toEqual(["theme"]);
    expect(loadWorkspace(stored({ settings: { theme: "dark", chosen: ["vim", "bogus"] } })).settings.chosen).toEqual(["vim"]);
  });
  it("keeps each language's files and main file name, dropping damaged ones", () => {
    const files = [{ name: "util.c", content: "x" }, { name: "b.bin", content: "AA==", binary: true }];
    const w = loadWorkspace(stored({ files: { "89": files, "71": [{ name: "../x", content: "" }], y: files }, mainName: { "89": "prog.c", "50": "/a" } }));
    expect(w.files).toEqual({ "89": files });
    expect(w.mainName).toEqual({ "89": "prog.c" });
    expect(loadWorkspace(stored({ previous: { languageId: 89, code: "", stdin: "", files, mainName: "prog.c" } })).previous).toEqual({ languageId: 89, code: "", stdin: "", files, mainName: "prog.c" });
    expect(loadWorkspace(stored({ previous: { languageId: 89, code: "", stdin: "", files: [{ name: "" }] } })).previous).toEqual({ languageId: 89, code: "", stdin: "" });
  });
  it("keeps the previous program only if it is whole", () => {
    expect(loadWorkspace(stored({ previous: { languageId: 71, code: "x", stdin: "" } })).previous).toEqual({ languageId: 71, code: "x", stdin: "" });
    expect(loadWorkspace(stored({ previous: { languageId: 71, code: 5 } })).previous).toBeNull();
  });
});
