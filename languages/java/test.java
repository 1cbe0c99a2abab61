import java.util.ArrayList;
import java.util.List;

public class Main {
    public static void main(String[] args) {
        List<String> parts = new ArrayList<>();
        parts.add("O");
        parts.add("K");
        StringBuilder sb = new StringBuilder();
        for (String p : parts) {
            sb.append(p);
        }
        System.out.println(sb);
    }
}
