import Testing
@testable import Reconcile
