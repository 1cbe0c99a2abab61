import { describe, expect, it } from "vitest";
import { base64ToBytes } from "./base64";
import {
  editorLanguageFor,
  fileFromBytes,
  fileNameProblem,
  isProject,
  mainFileName,
  mergeFiles,
  parseFiles,
  programFromFiles,
  submissionFiles,
  MAX_EXTRA_FILES,
} from "./files";
import { readZip } from "./zip";

const LIMITS = { maxFiles: 100, maxBytes: 1 << 20 };
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe("program files", () => {
  it("checks names: relative paths of plain parts, not taken, not the main file's", () => {
    expect(fileNameProblem("util.c", [])).toBeNull();
    expect(fileNameProblem("lib/util.c", [])).toBeNull();
    expect(fileNameProblem("", [])).toMatch(/needs a name/);
    expect(fileNameProblem("/etc/passwd", [])).toMatch(/relative/);
    for (const bad of ["../x", "a/../b", "a//b", "./a", "a/", "."]) expect(fileNameProblem(bad, [])).toMatch(/no empty part/);
    expect(fileNameProblem("a\\b", [])).toMatch(/backslash/);
    expect(fileNameProblem("a\nb", [])).toMatch(/control/);
    expect(fileNameProblem("x".repeat(256), [])).toMatch(/at most 255/);
    expect(fileNameProblem("util.c", ["util.c"])).toMatch(/already a file named util.c/);
    expect(fileNameProblem("script.py", [], "script.py")).toMatch(/main file's name/);
  });

  it("knows the main file's server name and the multi-file program", () => {
    expect(mainFileName("Python (3.11.2)")).toBe("script.py");
    expect(mainFileName("C (GCC 12.2.0)")).toBe("main.c");
    expect(mainFileName("C++ (GCC 12.2.0)")).toBe("main.cpp");
    expect(mainFileName("Java (OpenJDK 17)")).toBe("Main.java");
    expect(mainFileName("Executable")).toBe("a.out");
    expect(mainFileName("Something new")).toBe("source.txt");
    expect(isProject("Multi-file program")).toBe(true);
    expect(isProject("Python (3.11.2)")).toBe(false);
  });

  it("highlights extra files by extension, the scripts as Bash", () => {
    expect(editorLanguageFor("util.h", "Multi-file program")).toBe("C");
    expect(editorLanguageFor("run", "Multi-file program")).toBe("Bash");
    expect(editorLanguageFor("compile", "Multi-file program")).toBe("Bash");
    expect(editorLanguageFor("helper.py", "C (GCC 12)")).toBe("Python");
    expect(editorLanguageFor("notes", "Python (3.11)")).toBe("Python (3.11)");
    expect(editorLanguageFor("notes", "Multi-file program")).toBe("");
  });

  it("sends a single-file program's main file as source_code and the others as a zip", async () => {
    expect(submissionFiles("Python (3.11)", { main: "print(1)", mainName: "script.py", extra: [] })).toEqual({ source_code: "print(1)" });
    const s = submissionFiles("Python (3.11)", { main: "import helper", mainName: "script.py", extra: [{ name: "helper.py", content: "X = 1\n" }] });
    expect(s.source_code).toBe("import helper");
    const zip = await readZip(base64ToBytes(s.additional_files!), LIMITS);
    expect(zip.map((e) => [e.name, text(e.data)])).toEqual([["helper.py", "X = 1\n"]]);
  });

  it("sends a multi-file program as a zip of every file, no source_code, scripts executable", async () => {
    const s = submissionFiles("Multi-file program", {
      main: "int main(void){}",
      mainName: "main.c",
      extra: [
        { name: "run", content: "./main\n" },
        { name: "blob", content: "AP8=", binary: true },
      ],
    });
    expect(s.source_code).toBe("");
    const zip = await readZip(base64ToBytes(s.additional_files!), LIMITS);
    expect(zip.map((e) => e.name)).toEqual(["main.c", "run", "blob"]);
    expect(zip[1]!.mode).toBe(0o755);
    expect(zip[0]!.mode).toBe(0o644);
    expect(zip[2]!.data).toEqual(Uint8Array.of(0, 255));
  });

  it("marks scripts and ELF binaries executable in the zip, other files not", async () => {
    const elf = { name: "prog", content: "f0VMRgIBAQA=", binary: true }; // \x7fELF\x02\x01\x01\x00
    const s = submissionFiles("Executable", {
      main: "#!/bin/sh\nexec ./prog\n",
      mainName: "a.out",
      extra: [elf, { name: "data.bin", content: "AAEC", binary: true }, { name: "tool", content: "#!/bin/sh\n" }, { name: "notes.txt", content: "hi" }],
    });
    const zip = await readZip(base64ToBytes(s.additional_files!), LIMITS);
    expect(zip.map((e) => [e.name, e.mode])).toEqual([
      ["prog", 0o755],
      ["data.bin", 0o644],
      ["tool", 0o755],
      ["notes.txt", 0o644],
    ]);
  });

  it("tells text from binary", () => {
    expect(fileFromBytes("a.txt", new TextEncoder().encode("héllo"))).toEqual({ name: "a.txt", content: "héllo" });
    expect(fileFromBytes("a.bin", Uint8Array.of(0x68, 0, 0x69))).toEqual({ name: "a.bin", content: "aABp", binary: true });
    expect(fileFromBytes("b.bin", Uint8Array.of(0xff, 0xfe))).toEqual({ name: "b.bin", content: "//4=", binary: true });
  });

  it("finds the main file in a zip's files", () => {
    const files = [
      { name: "compile", content: "gcc" },
      { name: "prog.c", content: "int main" },
      { name: "script.py", content: "print(1)" },
    ];
    expect(programFromFiles(files, "script.py", false)).toEqual({ main: "print(1)", mainName: "script.py", extra: files.slice(0, 2) });
    expect(programFromFiles(files.slice(0, 2), "script.py", false)).toBeNull();
    // A multi-file program: its own main's name, else the first file that is not a script.
    expect(programFromFiles(files, "main.c", true)).toEqual({ main: "int main", mainName: "prog.c", extra: [files[0], files[2]] });
    expect(programFromFiles([files[0]!], "main.c", true)).toEqual({ main: "gcc", mainName: "compile", extra: [] });
  });

  it("merges files by name, saying which were replaced", () => {
    const into = [
      { name: "a", content: "1" },
      { name: "b", content: "2" },
    ];
    expect(mergeFiles(into, [{ name: "b", content: "3" }, { name: "c", content: "4" }])).toEqual({
      files: [{ name: "a", content: "1" }, { name: "b", content: "3" }, { name: "c", content: "4" }],
      replaced: ["b"],
    });
  });

  it("accepts only whole, valid file lists from untrusted data", () => {
    expect(parseFiles([{ name: "a", content: "x", binary: true, extra: 1 }])).toEqual([{ name: "a", content: "x", binary: true }]);
    expect(parseFiles([{ name: "a", content: "x" }, { name: "a", content: "y" }])).toBeNull();
    expect(parseFiles([{ name: "a" }])).toBeNull();
    expect(parseFiles("a")).toBeNull();
    expect(parseFiles(Array.from({ length: MAX_EXTRA_FILES + 2 }, (_, i) => ({ name: `f${i}`, content: "" })))).toBeNull();
  });
});
