object Main {
  def main(args: Array[String]): Unit = {
    val parts = List("O", "K")
    println(parts.mkString)
  }
}
