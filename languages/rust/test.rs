use std::collections::HashMap;

fn main() {
    let mut m = HashMap::new();
    for (k, v) in [(1, "O"), (2, "K")].into_iter() {
        m.insert(u8::try_from(k).unwrap(), v);
    }
    println!("{}{}", m[&1], m[&2]);
}
