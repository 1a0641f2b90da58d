import AllowanceLedger
import AllowanceOffice
import AllowanceViews
import ArgumentParser

extension Allowance {
    struct User: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Accounts of the web application (`allowance serve`): who logs in, with which role and communes.",
            subcommands: [Add.self, List.self, Disable.self, ResetPassword.self])
    }
}

extension Role: ExpressibleByArgument {}

/// A password from standard input: the first line, without its line feed. Never from an option, which the process
/// table and the shell's history would show.
func passwordFromStandardInput() throws -> String {
    guard let line = readLine(strippingNewline: true), !line.isEmpty else {
        throw CommandError("no password on standard input; pipe it in (printf '%s' \"$PASSWORD\" | allowance user add … --password-stdin)")
    }
    return line
}

extension Allowance.User {
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an account; approvers and admins also get an otpauth:// URI for their authenticator app.")

        @OptionGroup var store: StoreOptions
        @Argument(help: "The account's name (what the person types to log in).") var name: String
        @Option(help: "officer, approver, auditor, official or admin.") var role: Role
        @Option(help: ArgumentHelp("A commune the account sees and acts on (repeat for several); none: the whole office.", valueName: "CODE"))
        var commune: [String] = []
        @Flag(name: .customLong("password-stdin"), help: "Read the password from standard input (required).") var passwordStdin = false
        @OptionGroup var user: UserOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            guard passwordStdin else { throw CommandError("give the password on standard input with --password-stdin") }
            let accountName = try parsed { () throws(FieldError) in try UserName(parsing: name) }
            let communes = try commune.map { text in try parsed { () throws(FieldError) in try Code(parsing: text, field: "commune", uppercase: false) } }
            let password = try passwordFromStandardInput()
            let ledger = try store.open()
            let (account, uri): (Account, String?)
            do { (account, uri) = try ledger.accounts.add(accountName, role: role, communes: communes, password: password, by: try user.user()) } catch let error as AccessError {
                throw CommandError(error.description)
            }
            if output.json {
                JSON.object([("user", .string(account.name.value)), ("role", .string(account.role.rawValue)),
                             ("communes", .array(account.communes.map { .string($0.value) })), ("otp_uri", .optional(uri))]).print()
            } else {
                print("Account \(account.name) (\(account.role.rawValue)\(account.communes.isEmpty ? "" : ", communes " + account.communes.map(\.value).joined(separator: ", "))) created.")
                if let uri { print("Add to the authenticator app (it logs in with a one-time code): \(uri)") }
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every account, its role, communes and whether it is disabled.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let accounts = try store.open().accounts.list()
            if output.json {
                JSON.array(accounts.map { .object([("user", .string($0.name.value)), ("role", .string($0.role.rawValue)),
                                                   ("communes", .array($0.communes.map { .string($0.value) })), ("disabled", .bool($0.disabled)),
                                                   ("created_at", .string($0.createdAt)), ("created_by", .string($0.createdBy))]) }).print()
                return
            }
            var table = Table(["user", "role", "communes", "disabled", "created"], rightAligned: [])
            for account in accounts {
                table.add([account.name.value, account.role.rawValue, account.communes.map(\.value).joined(separator: ","),
                           account.disabled ? "yes" : "", account.createdAt])
            }
            print(table.render())
        }
    }

    struct Disable: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable an account and end its sessions.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The account's name.") var name: String
        @OptionGroup var user: UserOptions

        func run() throws {
            let accountName = try parsed { () throws(FieldError) in try UserName(parsing: name) }
            let ledger = try store.open()
            do { try ledger.accounts.disable(accountName, by: try user.user()) } catch let error as AccessError { throw CommandError(error.description) }
            print("Account \(accountName) disabled; its sessions ended.")
        }
    }

    struct ResetPassword: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-password",
            abstract: "Set a new password (from standard input); approvers and admins get a new one-time-code URI.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The account's name.") var name: String
        @Flag(name: .customLong("password-stdin"), help: "Read the password from standard input (required).") var passwordStdin = false
        @OptionGroup var user: UserOptions

        func run() throws {
            guard passwordStdin else { throw CommandError("give the password on standard input with --password-stdin") }
            let accountName = try parsed { () throws(FieldError) in try UserName(parsing: name) }
            let password = try passwordFromStandardInput()
            let ledger = try store.open()
            let uri: String?
            do { uri = try ledger.accounts.resetPassword(accountName, to: password, by: try user.user()) } catch let error as AccessError {
                throw CommandError(error.description)
            }
            print("Account \(accountName): password set, sessions ended.")
            if let uri { print("Add to the authenticator app: \(uri)") }
        }
    }
}
