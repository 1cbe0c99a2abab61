import Ide from "@/components/Ide";

export default function Page() {
  return <Ide />;
}
