import Foundation
import PackagePlugin

/// Turns every `.spec` file of a target into Swift during the build: one `<spec name>.swift`
/// per spec, and `NetworkRegistry.swift` listing them all (so a new spec needs no other edit).
@main
struct SpecccPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        guard let target = target as? SourceModuleTarget else { return [] }
        let specs = target.sourceFiles.map(\.url).filter { $0.pathExtension == "spec" }
            .sorted { $0.path < $1.path }
        guard !specs.isEmpty else { return [] }
        let tool = try context.tool(named: "speccc").url
        let outputDirectory = context.pluginWorkDirectoryURL

        var commands: [Command] = specs.map { spec in
            let output = outputDirectory.appending(path: spec.deletingPathExtension().lastPathComponent + ".swift")
            return .buildCommand(
                displayName: "speccc \(spec.lastPathComponent)",
                executable: tool,
                arguments: ["generate", spec.path, "--output", output.path],
                inputFiles: [spec] + includedFiles(of: spec),
                outputFiles: [output])
        }
        let registry = outputDirectory.appending(path: "NetworkRegistry.swift")
        commands.append(.buildCommand(
            displayName: "speccc registry for \(target.name)",
            executable: tool,
            arguments: ["registry", "--output", registry.path] + specs.map(\.path),
            inputFiles: specs,
            outputFiles: [registry]))
        return commands
    }

    /// Files a spec includes, transitively, so that editing them regenerates the spec.
    /// A cheap scan: the compiler itself reports malformed includes.
    func includedFiles(of spec: URL, seen: Set<URL> = []) -> [URL] {
        guard let text = try? String(contentsOf: spec, encoding: .utf8) else { return [] }
        var found: [URL] = []
        for line in text.split(separator: "\n") {
            let trimmed = line.drop(while: { $0 == " " || $0 == "\t" })
            guard trimmed.hasPrefix("include"), let open = trimmed.firstIndex(of: "\"") else { continue }
            let rest = trimmed[trimmed.index(after: open)...]
            guard let close = rest.firstIndex(of: "\"") else { continue }
            let path = String(rest[..<close])
            let url = path.hasPrefix("/") ? URL(fileURLWithPath: path)
                : spec.deletingLastPathComponent().appending(path: path).standardizedFileURL
            if seen.contains(url) || url == spec { continue }
            found.append(url)
            found += includedFiles(of: url, seen: seen.union([spec, url]))
        }
        return found
    }
}
