import Foundation
import SpecNetworks
import SpecRun

// A thin shell: the commands live in SpecRun; the networks come from Specs/ via the plugin.
let result = SpecRun.run(Array(CommandLine.arguments.dropFirst()), networks: CompiledNetworks.all)
FileHandle.standardOutput.write(Data(result.stdout.utf8))
FileHandle.standardError.write(Data(result.stderr.utf8))
exit(result.exitCode)
