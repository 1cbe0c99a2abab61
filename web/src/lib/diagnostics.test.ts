import { describe, expect, it } from "vitest";
import { Text } from "@codemirror/state";
import { diagnosticsIn, isProgramFile, parseDiagnostics, toEditorDiagnostics } from "./diagnostics";

// Real outputs of coderunner serve's toolchains (the sandbox's working directory is /box).
const GCC = `main.c: In function ‘main’:
main.c:4:5: error: expected ‘,’ or ‘;’ before ‘printf’
    4 |     printf("%d\\n", y);
      |     ^~~~~~
main.c:4:20: warning: unused variable ‘z’ [-Wunused-variable]
main.c:4:20: note: each undeclared identifier is reported only once
`;
const GXX = `main.cpp: In function ‘int main()’:
main.cpp:3:16: error: ‘undefined_name’ was not declared in this scope
    3 |   std::cout << undefined_name << std::endl;
      |                ^~~~~~~~~~~~~~
In file included from /usr/include/c++/12/iostream:39,
/usr/include/c++/12/ostream:10:3: note: candidate: ‘operator<<’
`;
const RUSTC = `error[E0425]: cannot find value \`y\` in this scope
 --> main.rs:3:20
  |
3 |     println!("{}", y);
  |                    ^ help: a local variable with a similar name exists: \`x\`

error[E0308]: mismatched types
 --> main.rs:2:18
  |
2 |     let x: i32 = "a";
  |            ---   ^^^ expected \`i32\`, found \`&str\`

warning: unused variable: \`w\`
 --> src/main.rs:5:9
error: aborting due to 2 previous errors
`;
const JAVAC = `Main.java:4: error: ';' expected
        System.out.println(x)
                             ^
1 error
`;
const JAVA_RUNTIME = `Exception in thread "main" java.lang.ArithmeticException: / by zero
\tat Main.main(Main.java:4)
`;
const PYTHON = `Traceback (most recent call last):
  File "/box/script.py", line 4, in <module>
    print(f())
          ^^^
  File "/box/script.py", line 2, in f
    return undefined_name
           ^^^^^^^^^^^^^^
NameError: name 'undefined_name' is not defined
`;
const PYTHON_SYNTAX = `  File "/box/script.py", line 1
    print('a'
         ^
SyntaxError: '(' was never closed
`;
const PYTHON_LIBRARY = `Traceback (most recent call last):
  File "/box/script.py", line 3, in <module>
    json.loads("{")
  File "/usr/lib/python3.11/json/__init__.py", line 346, in loads
    return _default_decoder.decode(s)
json.decoder.JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)
`;
const GO = `main.go:6:14: undefined: y
`;
const GO_PANIC = `panic: runtime error: index out of range [5] with length 1

goroutine 1 [running]:
main.main()
\tmain.go:8 +0x9
exit status 2
`;
const NODE = `/box/script.js:2
console.log(b);
            ^

ReferenceError: b is not defined
    at Object.<anonymous> (/box/script.js:2:13)
    at Module._compile (node:internal/modules/cjs/loader:1521:14)
    at node:internal/main/run_main_module:28:49

Node.js v20.20.2
`;

describe("parseDiagnostics", () => {
  it("reads gcc: errors, warnings and notes with line and column, not the excerpt", () => {
    expect(parseDiagnostics(GCC)).toEqual([
      { line: 4, column: 5, severity: "error", message: "expected ‘,’ or ‘;’ before ‘printf’", file: "main.c" },
      { line: 4, column: 20, severity: "warning", message: "unused variable ‘z’ [-Wunused-variable]", file: "main.c" },
      { line: 4, column: 20, severity: "info", message: "each undeclared identifier is reported only once", file: "main.c" },
    ]);
  });
  it("reads g++ and leaves the library headers' lines out", () => {
    expect(parseDiagnostics(GXX)).toEqual([{ line: 3, column: 16, severity: "error", message: "‘undefined_name’ was not declared in this scope", file: "main.cpp" }]);
  });
  it("reads rustc's arrows with the message above them", () => {
    expect(parseDiagnostics(RUSTC)).toEqual([
      { line: 2, column: 18, severity: "error", message: "mismatched types", file: "main.rs" },
      { line: 3, column: 20, severity: "error", message: "cannot find value `y` in this scope", file: "main.rs" },
      { line: 5, column: 9, severity: "warning", message: "unused variable: `w`", file: "src/main.rs" },
    ]);
  });
  it("reads javac's File.java:N: with the caret's column", () => {
    expect(parseDiagnostics(JAVAC)).toEqual([{ line: 4, column: 30, severity: "error", message: "';' expected", file: "Main.java" }]);
  });
  it("reads a Java exception's first frame", () => {
    expect(parseDiagnostics(JAVA_RUNTIME)).toEqual([
      { line: 4, column: null, severity: "error", message: 'Exception in thread "main" java.lang.ArithmeticException: / by zero', file: "Main.java" },
    ]);
  });
  it("reads Python's traceback: the deepest frame in the program, with the exception", () => {
    expect(parseDiagnostics(PYTHON)).toEqual([{ line: 2, column: null, severity: "error", message: "NameError: name 'undefined_name' is not defined", file: "script.py" }]);
    expect(parseDiagnostics(PYTHON_SYNTAX)).toEqual([{ line: 1, column: null, severity: "error", message: "SyntaxError: '(' was never closed", file: "script.py" }]);
    // The library's frame is deeper, but the program's line is the one to show.
    expect(parseDiagnostics(PYTHON_LIBRARY)).toEqual([
      { line: 3, column: null, severity: "error", message: expect.stringMatching(/^json\.decoder\.JSONDecodeError: Expecting/), file: "script.py" },
    ]);
  });
  it("reads go's compile errors and a panic's frame", () => {
    expect(parseDiagnostics(GO)).toEqual([{ line: 6, column: 14, severity: "error", message: "undefined: y", file: "main.go" }]);
    expect(parseDiagnostics(GO_PANIC)).toEqual([{ line: 8, column: null, severity: "error", message: "panic: runtime error: index out of range [5] with length 1", file: "main.go" }]);
  });
  it("reads node's first frame in the program, not its internals", () => {
    expect(parseDiagnostics(NODE)).toEqual([{ line: 2, column: 13, severity: "error", message: "ReferenceError: b is not defined", file: "script.js" }]);
  });
  it("reads a bare line:col and combines several outputs without repeats", () => {
    expect(parseDiagnostics("3:7: unexpected token\n", GO, GO)).toEqual([
      { line: 3, column: 7, severity: "error", message: "unexpected token", file: null },
      { line: 6, column: 14, severity: "error", message: "undefined: y", file: "main.go" },
    ]);
  });
  it("finds nothing in ordinary output", () => {
    expect(parseDiagnostics("Hello, Ada!\n12:30 is lunch\nratio 3:4\n", null, undefined, "")).toEqual([]);
  });
});

describe("diagnosticsIn", () => {
  it("puts each diagnostic on its file's tab; the main tab gets those of no tab", () => {
    const out = `util.c:5:3: error: 'x' undeclared\nmain.c:2:1: warning: unused\n/box/lib/b.h:1:1: error: in a folder\nother.c:9:9: error: not a tab\n4:2: bare\n`;
    const list = parseDiagnostics(out);
    const tabs = ["main.c", "util.c", "lib/b.h"];
    expect(diagnosticsIn(list, tabs, 0).map((d) => `${d.line}:${d.message}`)).toEqual(["2:unused", "4:bare", "9:not a tab"]);
    expect(diagnosticsIn(list, tabs, 1).map((d) => `${d.line}:${d.message}`)).toEqual(["5:'x' undeclared"]);
    expect(diagnosticsIn(list, tabs, 2).map((d) => `${d.line}:${d.message}`)).toEqual(["1:in a folder"]);
    // A single-file program gets them all, whatever the tool calls its file.
    expect(diagnosticsIn(list, ["script.c"], 0)).toHaveLength(5);
    // A Python helper module's traceback line is the helper's, not the main file's.
    const tb = 'Traceback (most recent call last):\n  File "/box/script.py", line 2, in <module>\n    helper.f()\n  File "/box/helper.py", line 3, in f\n    return 1 / 0\nZeroDivisionError: division by zero\n';
    expect(diagnosticsIn(parseDiagnostics(tb), ["script.py", "helper.py"], 1)).toMatchObject([{ line: 3, message: "ZeroDivisionError: division by zero" }]);
    expect(diagnosticsIn(parseDiagnostics(tb), ["script.py", "helper.py"], 0)).toEqual([]);
  });
});

describe("isProgramFile", () => {
  it("accepts the program's names and refuses libraries and internals", () => {
    for (const p of ["main.c", "./main.go", "src/main.rs", "Main.java", "/box/script.py"]) expect(isProgramFile(p)).toBe(true);
    for (const p of ["/usr/include/stdio.h", "node:internal/modules/cjs/loader", "<frozen importlib._bootstrap>", "<string>", "../etc/x.c", "/box/../etc/passwd", "/tmp/x.c"])
      expect(isProgramFile(p)).toBe(false);
  });
});

describe("toEditorDiagnostics", () => {
  const doc = Text.of(["int main(void) {", "    int x = 1", "    printf(y);", "}"]);
  it("underlines the word at the column, or the line without one", () => {
    const [a, b] = toEditorDiagnostics(doc, [
      { line: 3, column: 5, severity: "error", message: "m", file: null },
      { line: 2, column: null, severity: "warning", message: "w", file: null },
    ]);
    expect(a && doc.sliceString(a.from, a.to)).toBe("printf");
    expect(b && doc.sliceString(b.from, b.to)).toBe("int x = 1");
    expect(b?.severity).toBe("warning");
  });
  it("keeps positions inside the document", () => {
    const list = toEditorDiagnostics(doc, [
      { line: 1, column: 99, severity: "error", message: "past the line", file: null },
      { line: 9, column: 1, severity: "error", message: "past the document", file: null },
    ]);
    expect(list).toEqual([{ from: doc.line(1).to, to: doc.line(1).to, severity: "error", message: "past the line" }]);
  });
});
