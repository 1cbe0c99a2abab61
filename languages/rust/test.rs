use std::collections::HashMap;

fn main() {
    let mut m = HashMap::new();
    m.insert(1, "O");
    m.insert(2, "K");
    println!("{}{}", m[&1], m[&2]);
}
