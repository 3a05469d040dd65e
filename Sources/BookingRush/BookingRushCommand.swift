import ArgumentParser

/// `booking-rush`: the waiting-room gateway and the services behind it.
struct BookingRushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "booking-rush",
        abstract: "Virtual queue and admission-control gateway, with its booking and payments services.",
        subcommands: [
            GatewayCommand.self, BookingCommand.self, PaymentsCommand.self, DevCommand.self, MigrateCommand.self, ReconcileCommand.self,
            CheckRoutesCommand.self,
        ]
    )
}
