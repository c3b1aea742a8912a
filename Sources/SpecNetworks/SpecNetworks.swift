// Every `.spec` file in Specs/ (reached through the `Specs` symlink in this folder) is
// compiled into this module by the speccc plugin during the build, together with
// `CompiledNetworks.all`, which lists them. Adding a spec to Specs/ needs no other edit.
