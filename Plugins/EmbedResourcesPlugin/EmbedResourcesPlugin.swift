import Foundation
import PackagePlugin

/// Embeds every `Lua/*.lua` script, `Migrations/*.sql` file and `Web/` asset of the package into the
/// target as Swift string constants, so the binaries never read them from the working directory.
@main
struct EmbedResourcesPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let root = context.package.directoryURL
        let lua = try files(in: root.appending(path: "Lua"), withExtension: "lua")
        let migrations = try files(in: root.appending(path: "Migrations"), withExtension: "sql")
        let web = try ["html", "js", "css", "svg", "json"].flatMap { try files(in: root.appending(path: "Web"), withExtension: $0) }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedResources+Generated.swift")
        let arguments = [output.path()]
            + lua.map { "lua=\($0.path())" }
            + migrations.map { "migration=\($0.path())" }
            + web.map { "web=\($0.path())" }
        return [
            .buildCommand(
                displayName: "Embedding \(lua.count) Lua scripts, \(migrations.count) migrations and \(web.count) web assets",
                executable: try context.tool(named: "EmbedResources").url,
                arguments: arguments,
                inputFiles: lua + migrations + web,
                outputFiles: [output]
            )
        ]
    }

    private func files(in directory: URL, withExtension ext: String) throws -> [URL] {
        guard FileManager.default.fileExists(atPath: directory.path()) else { return [] }
        return try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == ext }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }
}
