import ArgumentParser
import Foundation
import RabbitMQ
import WarrenCore
import WarrenMessaging

/// What the runtime `schedules` commands share: the connection, the schedules the active
/// scheduler has in force, the name check and who is acting.
struct RuntimeSchedules {
    let connection: Connection
    let loaded: ScheduleSet
    let client: TaskClient
    let command: String

    /// Connects and reads what the scheduler has in force; reports failures in one line (exit 1).
    static func open(_ broker: BrokerOptions, queueOptions: TaskQueueOptions = TaskQueueOptions(), command: String) async throws -> RuntimeSchedules {
        let connection = try await broker.connect(command: "schedules \(command)")
        let loaded: LoadedSchedules?
        do {
            loaded = try await Inspector(connection: connection).loadedSchedules()
        } catch {
            await connection.close()
            FileHandle.standardError.write(Data("warren schedules \(command): \(error)\n".utf8))
            throw ExitCode(1)
        }
        guard let loaded else {
            await connection.close()
            FileHandle.standardError.write(Data("warren schedules \(command): no scheduler has published its schedules to this broker yet; start warren scheduler first\n".utf8))
            throw ExitCode(1)
        }
        return RuntimeSchedules(connection: connection, loaded: loaded.scheduleSet(),
                                client: TaskClient(connection: connection, queueOptions: queueOptions, actor: actor()), command: command)
    }

    /// The schedule called `name`; an unknown name is a usage error (exit 2) with a did-you-mean.
    func schedule(_ name: String) async throws -> ScheduleDefinition {
        do {
            return try loaded.lookup(name)
        } catch {
            await connection.close()
            throw ValidationError("NAME: \(error)")
        }
    }

    /// Runs `body`; a broker failure is one line on stderr and exit 1. Closes the connection
    /// afterwards (on success only when `close`).
    func run<T>(close: Bool = true, _ body: () async throws -> T) async throws -> T {
        do {
            let value = try await body()
            if close { await connection.close() }
            return value
        } catch let exit as ExitCode {
            await connection.close()
            throw exit
        } catch let usage as ValidationError {
            await connection.close()
            throw usage
        } catch {
            await connection.close()
            FileHandle.standardError.write(Data("warren schedules \(command): \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// `cli:USER@HOST`, recorded with every write.
    static func actor() -> String {
        let user = getpwuid(getuid()).map { String(cString: $0.pointee.pw_name) }
            ?? ProcessInfo.processInfo.environment["USER"] ?? "uid \(getuid())"
        return "cli:\(user)@\(ProcessInfo.processInfo.hostName)"
    }
}
