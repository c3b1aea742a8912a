import Foundation
import SpecccCLI

// A thin shell: everything happens in SpecccCLI, which tests call directly.
let result = Speccc.run(Array(CommandLine.arguments.dropFirst()))
for (path, contents) in result.files {
    do {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        // Leave an unchanged file alone so the build does not redo work downstream.
        if (try? String(contentsOf: url, encoding: .utf8)) != contents {
            try contents.write(to: url, atomically: true, encoding: .utf8)
        }
    } catch {
        FileHandle.standardError.write(Data("speccc: cannot write \(path): \(error)\n".utf8))
        exit(1)
    }
}
FileHandle.standardOutput.write(Data(result.stdout.utf8))
FileHandle.standardError.write(Data(result.stderr.utf8))
exit(result.exitCode)
