import Foundation
import PropertyBased
import Testing
@testable import AllowanceLedger
@testable import LedgerSQLite

/// Properties checked on random inputs; a failure prints the seed that reproduces it (`.fixedSeed(…)`).
@Suite struct PropertyTests {
    @Test func theByteHasherWritesExactlyTheDocumentedEncoding() async {
        let text = Gen.letterOrNumber.string(of: 0...12)
        await propertyCheck(input: Gen.int64(in: 1...1_000_000), text, Gen.int64(in: -5_000_000_000...5_000_000_000),
                            Gen.int64(in: 1...9_999_999).optional) { leg, sub, amount, item in
            let header = ChainEncoding.header(id: leg, at: "2026-11-30T00:00:00Z", kind: "entitlement", key: "k:\(sub)", batch: item,
                                              by: "Lan", memo: "Trợ cấp \(sub)", prevHash: ChainEncoding.genesis)
            let hasher = ChainHasher(header: header)
            hasher.posting(leg: leg, account: "2000", sub: sub, beneficiary: item, item: item.map { $0 + 1 }, amount: amount)
            hasher.posting(leg: leg + 1, account: "5000", sub: "", beneficiary: nil, item: nil, amount: Int64.min + 1)
            let expected = header
                + ChainEncoding.posting(leg: leg, account: "2000", sub: sub, beneficiary: item, item: item.map { $0 + 1 }, amount: amount)
                + ChainEncoding.posting(leg: leg + 1, account: "5000", sub: "", beneficiary: nil, item: nil, amount: Int64.min + 1)
            #expect(hasher.finalize() == SHA256Hasher.hash(expected))
        }
    }

    @Test func groupedAmountsParseBackToThemselves() async {
        await propertyCheck(input: Gen.int64(in: 0...999_999_999_999_999)) { (dong: Int64) throws in
            let money = Money(dong: dong)
            #expect(try Money(parsing: money.grouped) == money)
            #expect(try Money(parsing: money.grouped.replacingOccurrences(of: ".", with: ",")) == money)
            #expect(try Money(parsing: money.description + " ₫") == money)
        }
    }

    @Test func everySpellingOfAMobileNumberIsTheSameNumber() async {
        let prefix = Gen.element(of: ["3", "5", "7", "8", "9"])
        await propertyCheck(input: prefix, Gen.int(in: 0...99_999_999)) { (firstDigit: String?, rest: Int) throws in
            let first = firstDigit ?? "9"
            let subscriber = first + String(repeating: "0", count: 8 - String(rest).count) + String(rest)
            let canonical = "84" + subscriber
            let head = String(subscriber.prefix(3))
            let middle = String(subscriber.dropFirst(3).prefix(3))
            let tail = String(subscriber.suffix(3))
            let spellings: [String] = ["0" + subscriber, "84" + subscriber, "+84" + subscriber, "+84 \(head) \(middle)\(tail)",
                                       "0\(head).\(middle).\(tail)", subscriber]
            for spelling in spellings {
                #expect(try MSISDN(parsing: spelling).canonical == canonical)
            }
            #expect(try MSISDN(parsing: "0" + subscriber).masked == String(repeating: "*", count: 8) + subscriber.suffix(3))
        }
    }

    /// Random budget postings against a model: the first amount recorded under a reference wins, a repeat
    /// changes nothing, a different amount under a used reference is refused; debits always equal credits.
    @Test func fundingMatchesAModel() async throws {
        let operation = Gen.int(in: 0...4).array(of: 1...25)
        await propertyCheck(count: 15, input: operation, Gen.int64(in: 1...5).array(of: 25)) { references, amounts in
            do {
                let fixture = try Fixture()
                var model: [Int: Int64] = [:]
                for (index, reference) in references.enumerated() {
                    let amount = Money(dong: amounts[index] * 1_000_000)
                    if let recorded = model[reference], recorded != amount.dong {
                        #expect(throws: LedgerError.idempotencyConflict(key: "R\(reference)")) {
                            try fixture.store.journal.fund(amount: amount, reference: "R\(reference)", by: user("head"))
                        }
                        continue
                    }
                    let result = try fixture.store.journal.fund(amount: amount, reference: "R\(reference)", by: user("head"))
                    #expect(result.alreadyRecorded == (model[reference] != nil))
                    model[reference] = amount.dong
                }
                let balances = try fixture.store.journal.balances()
                let total = model.values.reduce(0, +)
                #expect(balances.first { $0.account == .treasury }?.balance.dong == total)
                #expect(balances.first { $0.account == .budget }?.balance.dong == total)
                #expect(balances.reduce(0) { $0 + $1.debits.dong } == balances.reduce(0) { $0 + $1.credits.dong })
                let verification = try fixture.store.journal.verify()
                #expect(verification.isIntact)
                #expect(verification.entries == model.count)
            } catch {
                Issue.record(error)
            }
        }
    }

    /// A month on a random register: whatever the mix, the books balance, cash desks end at zero, the payable left
    /// open equals the mobile-money items, and the chain verifies.
    @Test func aMonthOnARandomRegisterBalances() async throws {
        await propertyCheck(count: 8, input: Gen.int(in: 20...300), Gen.int(in: 0...100), Gen.int(in: 1...1_000_000)) { count, mobilePercent, seed in
            do {
                let fixture = try Fixture()
                var generator = RegisterGenerator(count: count, seed: UInt64(seed))
                generator.mobileMoneyPercent = mobilePercent
                let path = fixture.directory.file("register.csv")
                try generator.write(to: path)
                let imported = try fixture.store.registry.importRegister(path: path, options: RegisterImportOptions(by: user("officer")))
                #expect(imported.created == count)
                let batch = try fixture.store.payouts.createBatch(BatchCreateOptions(period: try Period(parsing: "2026-11"), by: user("maker")))
                _ = try fixture.store.payouts.approveBatch(batch.batch.id, by: user("checker"))
                if batch.mobileMoneyItems > 0 {
                    _ = try fixture.store.payouts.exportBatch(batch.batch.id, to: fixture.directory.file("i.csv"), by: user("maker"))
                }
                if batch.cashItems > 0 {
                    _ = try fixture.store.payouts.advanceCash(batch.batch.id, by: user("maker"))
                    #expect(try fixture.store.payouts.settleCash(batch.batch.id, .all, by: user("maker")).settled == batch.cashItems)
                }
                let summary = try fixture.store.payouts.batchSummary(batch.batch.id)
                let mobileTotal = summary.byMethod.first { $0.key == "mobile_money" }?.amount ?? .zero
                let balances = try fixture.store.journal.balances()
                #expect(balances.first { $0.account == .expense }?.balance == batch.total)
                #expect(balances.first { $0.account == .payable }?.balance ?? .zero == mobileTotal)
                #expect(balances.filter { $0.account == .cashDisbursement }.allSatisfy { $0.balance == .zero })
                #expect(balances.reduce(0) { $0 + $1.net.dong } == 0)
                #expect(batch.items + batch.batch.heldOut == count)
                #expect(try fixture.store.journal.verify().isIntact)
            } catch {
                Issue.record(error)
            }
        }
    }
}
