import Testing
import WarrenCore

@Suite("environment files (NAME=value, as systemd reads them)")
struct EnvironmentFileTests {
    @Test("comments, blank lines, export, quotes and = in values")
    func parse() throws {
        let text = """
            # the broker
            WARREN_AMQP_URL=amqp://u:p@h:5672/

            ; another comment
            export WARREN_STORE="sqlite:/tmp/a b.sqlite"
            WARREN_API_TOKEN='x=y'
              WARREN_HEARTBEAT = 5s
            """
        let variables = try EnvironmentFile.parse(text, file: "w.env")
        #expect(variables.map(\.name) == ["WARREN_AMQP_URL", "WARREN_STORE", "WARREN_API_TOKEN", "WARREN_HEARTBEAT"])
        #expect(variables.map(\.value) == ["amqp://u:p@h:5672/", "sqlite:/tmp/a b.sqlite", "x=y", "5s"])
    }

    @Test("a line without = or with a bad name is an error naming file and line")
    func errors() {
        #expect(throws: InputFileError(file: "w.env", line: 2, column: 1, message: "expected NAME=value")) {
            try EnvironmentFile.parse("A=1\nnonsense\n", file: "w.env")
        }
        #expect(throws: InputFileError(file: "w.env", line: 1, column: 1, message: "\"1A\" is not a variable name")) {
            try EnvironmentFile.parse("1A=1", file: "w.env")
        }
    }
}
