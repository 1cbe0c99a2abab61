interface Greeting {
    text: string;
}
const g: Greeting = { text: "OK" };
console.log(g.text);
