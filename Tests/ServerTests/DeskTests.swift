import AllowanceLedger
import AllowanceOffice
import Testing

/// The roles are held by the desk, beside the services, not by the pages: called directly, without HTTP, a desk
/// refuses what the account's role or communes do not allow, and acts as the account.
@Suite(.timeLimit(.minutes(2)))
struct DeskTests {
    func account(_ office: Office, _ name: String) throws -> Account {
        try #require(try office.ledger.accounts.list().first { $0.name.value == name })
    }

    @Test func aDeskRefusesWhatTheRoleMayNotAndActsAsTheAccount() throws {
        let office = try Office()
        let official = office.ledger.desk(for: try account(office, "official.tu"))
        let period = try Period(parsing: "2026-11")
        #expect(throws: AccessError.forbidden(.createBatch)) { try official.createBatch(period: period, communes: []) }
        #expect(throws: AccessError.forbidden(.viewBeneficiaries)) { try official.beneficiaries(BeneficiaryFilter()) }
        #expect(throws: AccessError.forbidden(.verifyLedger)) { try official.verifyLedger() }
        _ = try official.nonCash(from: period, to: period, grouping: .commune, target: Share(basisPoints: 8_000))

        let officer = office.ledger.desk(for: try account(office, "officer.lan"))
        let created = try officer.createBatch(period: period, communes: [])
        #expect(created.batch.createdBy == "officer.lan")
        #expect(throws: AccessError.forbidden(.approveBatch)) { try officer.approveBatch(created.batch.id) }
        let approver = office.ledger.desk(for: try account(office, "head.minh"))
        #expect(try approver.approveBatch(created.batch.id).result.batch.approvedBy == "head.minh")
        let admin = office.ledger.desk(for: try account(office, "admin.an"))
        #expect(throws: AccessError.forbidden(.viewBatches)) { try admin.batches() }
        #expect(try admin.accounts().count == 6)
    }

    @Test func aCommuneAccountActsOnItsCommunesOnly() throws {
        let office = try Office()
        let local = office.ledger.desk(for: try account(office, "officer.xa"))
        let everyone = try office.ledger.registry.beneficiaries(BeneficiaryFilter())
        let other = try #require(everyone.first { $0.details.commune.value != "26737" })
        #expect(throws: AccessError.outsideCommunes) { try local.beneficiary(other.id) }
        #expect(throws: AccessError.outsideCommunes) { try local.beneficiaries(BeneficiaryFilter(commune: other.details.commune)) }
        #expect(try local.beneficiaries(BeneficiaryFilter()).allSatisfy { $0.details.commune.value == "26737" })
        // Its batch is of its commune without saying so, and another's is refused.
        let period = try Period(parsing: "2026-11")
        let own = try local.createBatch(period: period, communes: [])
        #expect(own.batch.communes.map(\.value) == ["26737"])
        #expect(throws: AccessError.outsideCommunes) { try local.createBatch(period: period, communes: [other.details.commune]) }
        let wide = try office.ledger.desk(for: try account(office, "officer.lan")).createBatch(period: try Period(parsing: "2026-12"), communes: [])
        #expect(throws: AccessError.outsideCommunes) { try local.batchSummary(wide.batch.id) }
        #expect(try local.batches().map(\.id) == [own.batch.id])
    }
}
