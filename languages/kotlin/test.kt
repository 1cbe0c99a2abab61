fun main() {
    val parts = listOf("O", "K")
    println(parts.joinToString(""))
}
