interface Greeting {
    text: string;
}
const parts = new Map<number, string>([[2, "K"], [1, "O"]]);
const g: Greeting = { text: [...parts.keys()].sort().map((k) => parts.get(k)).join("") };
console.log([1, 2].includes(2) ? g.text : "no");
