import Testing
import WarrenCore

@Suite struct TraceParentTests {
    @Test("a child keeps the trace id and flags and gets a new span id; without a valid parent, a new sampled trace")
    func child() {
        let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
        let child = TraceParent.child(of: parent)
        #expect(TraceParent.isValid(child))
        #expect(child.hasPrefix("00-4bf92f3577b34da6a3ce929d0e0e4736-") && child.hasSuffix("-00"))
        #expect(child != parent && TraceParent.child(of: parent) != child)
        for missing in [nil, "", "00-0000-00f067aa0ba902b7-01", "zz"] as [String?] {
            let root = TraceParent.child(of: missing)
            #expect(TraceParent.isValid(root) && root.hasSuffix("-01"), "\(missing ?? "nil") → \(root)")
        }
        #expect(TraceParent.traceID(of: parent) == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(TraceParent.traceID(of: "nonsense") == nil)
    }
}
