import SpecCodegen
import SpecLang

/// `speccc generate …` and `speccc registry …`
enum Generate {
    static func run(_ args: inout Arguments, source: some SpecSource, into output: inout CommandOutput) throws {
        throw UsageError(message: "not yet")
    }
}

enum Registry {
    static func run(_ args: inout Arguments, source: some SpecSource, into output: inout CommandOutput) throws {
        throw UsageError(message: "not yet")
    }
}
