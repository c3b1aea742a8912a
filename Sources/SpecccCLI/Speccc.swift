import SpecCodegen
import SpecIR
import SpecLang
import SpecPasses

/// What a command produced. The executable prints it and writes the files; tests read it.
public struct CommandOutput: Sendable {
    public var stdout = ""
    public var stderr = ""
    /// Files to write, in order: (path, contents).
    public var files: [(path: String, contents: String)] = []
    public var exitCode: Int32 = 0

    public init() {}

    mutating func fail(_ message: String, code: Int32 = 1) {
        stderr += message.hasSuffix("\n") ? message : message + "\n"
        exitCode = code
    }
}

/// The `speccc` command line, as a function from arguments to output.
public enum Speccc {
    public static let usage = """
    usage: speccc <command> [options]

    commands:
      dump-ir <spec> [--after <pass>] [--format text|json|dot]
                          print the IR as lowered, or after a pass
      stats <spec> [--json] [--paper]
                          output shape, params and MACs of every layer, and totals
      plan <spec> [--json] [--svg <file>]
                          the memory plan: arena, lower bound, buffers
      generate <spec> [--output <file>]
                          the Swift source for one network (stdout without --output)
      generate <spec>... --output-dir <dir> [--check]
                          one .swift per spec; --check compares with the files there
      registry --output <file> <spec>...
                          the Swift file that lists the networks of a target
      passes              the passes, in the order they run
    """

    public static func run(_ arguments: [String], source: some SpecSource = FileSystemSource()) -> CommandOutput {
        var output = CommandOutput()
        guard let command = arguments.first else {
            output.fail(usage, code: 2)
            return output
        }
        var args = Arguments(Array(arguments.dropFirst()))
        do {
            switch command {
            case "dump-ir": try DumpIR.run(&args, source: source, into: &output)
            case "stats": try Stats.run(&args, source: source, into: &output)
            case "plan": try Plan.run(&args, source: source, into: &output)
            case "generate": try Generate.run(&args, source: source, into: &output)
            case "registry": try Registry.run(&args, source: source, into: &output)
            case "passes":
                try args.finish()
                for pass in Pipeline.passes { output.stdout += "\(pass.name.padding(20))\(pass.summary)\n" }
            case "help", "--help", "-h": output.stdout += usage + "\n"
            default: output.fail("speccc: unknown command '\(command)'\n\n" + usage, code: 2)
            }
        } catch let error as SpecError {
            output.fail(error.description)
        } catch let error as UsageError {
            output.fail("speccc \(command): \(error.message)", code: 2)
        } catch {
            output.fail("speccc \(command): \(error)")
        }
        return output
    }
}

struct UsageError: Error {
    var message: String
}

/// A tiny argument reader: options by name, positionals in order, leftovers rejected.
struct Arguments {
    private var items: [String]

    init(_ items: [String]) { self.items = items }

    mutating func flag(_ name: String) -> Bool {
        guard let i = items.firstIndex(of: name) else { return false }
        items.remove(at: i)
        return true
    }

    mutating func value(_ name: String) throws -> String? {
        guard let i = items.firstIndex(of: name) else { return nil }
        guard i + 1 < items.count, !items[i + 1].hasPrefix("--") else { throw UsageError(message: "\(name) needs a value") }
        let value = items[i + 1]
        items.removeSubrange(i...(i + 1))
        return value
    }

    mutating func positional(_ what: String) throws -> String {
        guard let i = items.firstIndex(where: { !$0.hasPrefix("--") }) else { throw UsageError(message: "missing \(what)") }
        return items.remove(at: i)
    }

    mutating func remainingPositionals() -> [String] {
        let positionals = items.filter { !$0.hasPrefix("--") }
        items.removeAll { !$0.hasPrefix("--") }
        return positionals
    }

    func finish() throws {
        if let extra = items.first { throw UsageError(message: "unexpected argument '\(extra)'") }
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self + " " : self + String(repeating: " ", count: width - count) }
}
