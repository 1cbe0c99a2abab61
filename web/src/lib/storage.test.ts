import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS, emptyWorkspace, loadWorkspace, saveWorkspace } from "./storage";
import { defaultLanguageId, templateFilesFor, templateFor } from "./templates";

function memoryStorage() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
}

describe("workspace storage", () => {
  it("round-trips", () => {
    const s = memoryStorage();
    const w = { ...emptyWorkspace(), languageId: 54, code: { "54": "int main(){}" }, stdin: "x", tests: [{ stdin: "1", expected_output: "2" }] };
    w.settings = { ...DEFAULT_SETTINGS, theme: "dark", vim: true };
    expect(saveWorkspace(s, w)).toBe(true);
    expect(loadWorkspace(s)).toEqual(w);
  });
  it("keeps each language's files and main file name, and says when the browser refuses to keep them", () => {
    const s = memoryStorage();
    const w = { ...emptyWorkspace(), languageId: 89, files: { "89": [{ name: "run", content: "./main" }], "71": [{ name: "helper.py", content: "X = 1" }] }, mainName: { "89": "prog.c" } };
    expect(saveWorkspace(s, w)).toBe(true);
    expect(loadWorkspace(s)).toEqual(w);
    const full = { setItem: () => { throw new DOMException("quota", "QuotaExceededError"); } };
    expect(saveWorkspace(full, w)).toBe(false);
  });
  it("ignores broken or hostile entries", () => {
    const s = memoryStorage();
    s.setItem("coderunner.ide.v1", "{not json");
    expect(loadWorkspace(s)).toEqual(emptyWorkspace());
    s.setItem("coderunner.ide.v1", JSON.stringify({ languageId: "x", code: { 1: 5 }, tests: [{ stdin: 1 }], settings: { theme: "pink", fontSize: 999 } }));
    expect(loadWorkspace(s)).toEqual(emptyWorkspace());
  });
});

describe("templates", () => {
  it("has a program for the main languages", () => {
    expect(templateFor("C (GCC 12.2.0)")).toContain("#include <stdio.h>");
    expect(templateFor("C++ (GCC 12.2.0)")).toContain("#include <iostream>");
    expect(templateFor("C# (Mono 6.8)")).toContain("Console.WriteLine");
    expect(templateFor("Python (3.11.2)")).toContain("print");
    expect(templateFor("Java (OpenJDK 17.0.8)")).toContain("public class Main");
    expect(templateFor("JavaScript (Node.js 18.19.0)")).toContain("console.log");
    expect(templateFor("Go (1.19.8)")).toContain("package main");
    expect(templateFor("Rust (1.63.0)")).toContain("fn main");
    expect(templateFor("Groovy (4.0)")).toContain("${name}");
    expect(templateFor("Unknown thing")).toBe("");
  });
  it("starts Executable with a script and the multi-file program with a C program in two files and its scripts", () => {
    expect(templateFor("Executable")).toMatch(/^#!\/bin\/sh\n/);
    expect(templateFilesFor("Executable")).toEqual([]);
    expect(templateFor("Multi-file program")).toContain('#include "util.h"');
    expect(templateFilesFor("Multi-file program").map((f) => f.name)).toEqual(["util.c", "util.h", "compile", "run"]);
    expect(templateFilesFor("Multi-file program").find((f) => f.name === "compile")!.content).toContain("main.c util.c");
    expect(templateFor("Plain Text")).toBe("Hello, world!\n");
  });
  it("picks Python first", () => {
    expect(defaultLanguageId([{ id: 50, name: "C (GCC 12)" }, { id: 71, name: "Python (3.11)" }])).toBe(71);
    expect(defaultLanguageId([{ id: 50, name: "C (GCC 12)" }])).toBe(50);
    expect(defaultLanguageId([])).toBeUndefined();
  });
});
