import { describe, expect, it } from "vitest";
import { plainVerdict } from "./verdict";

describe("plain-language verdicts", () => {
  it("says what happened, with the technical name as detail", () => {
    expect(plainVerdict({ id: 3, description: "Accepted" })).toEqual({ title: "Ran successfully", short: "Passed", technical: "Accepted" });
    expect(plainVerdict({ id: 8, description: "Runtime Error (SIGXFSZ)" })).toMatchObject({ title: expect.stringMatching(/more output than allowed/), technical: "Runtime Error (SIGXFSZ)" });
    expect(plainVerdict({ id: 11, description: "Runtime Error (NZEC)" }, false, 3)).toMatchObject({ title: "The program ended with an error (exit code 3)", technical: "Runtime Error (NZEC)" });
    expect(plainVerdict({ id: 5, description: "Time Limit Exceeded" }).title).toMatch(/too long/);
  });
  it("names the memory limit, whatever the status says", () => {
    expect(plainVerdict({ id: 12, description: "Runtime Error (Other)" }, true)).toEqual({
      title: "Stopped: the program used more memory than allowed",
      short: "Out of memory",
      technical: "Runtime Error (Other) — memory limit exceeded",
    });
  });
  it("falls back to the server's words for a status it does not know", () => {
    expect(plainVerdict({ id: 99, description: "Something New" })).toEqual({ title: "Something New", short: "Something New", technical: "Something New" });
    expect(plainVerdict(null).short).toBe("Not run");
  });
});
