import Testing
@testable import LoupeServer

/// Every state × every event of `JobState`, checked against one table.
@Suite("Job states")
struct JobStateTests {
    enum Event: CaseIterable {
        case start, cancel, finishCompleted, finishFailed, finishStopped, interrupt, resume
    }

    /// What `event` does from `state`: the state after it and what the transition returned.
    static func expected(_ state: JobState, _ event: Event) -> (JobState, String) {
        switch (state, event) {
        case (.queued, .start): (.running, "true")
        case (_, .start): (state, "false")

        case (.queued, .cancel), (.interrupted, .cancel): (.cancelled, "cancelledBeforeStart")
        case (.running, .cancel): (.cancelling, "stopWork")
        case (_, .cancel): (state, "none")

        case (.running, .finishCompleted), (.cancelling, .finishCompleted): (.done, "true")
        case (.running, .finishFailed), (.cancelling, .finishFailed): (.failed, "true")
        case (.running, .finishStopped): (.interrupted, "true")
        case (.cancelling, .finishStopped): (.cancelled, "true")
        case (_, .finishCompleted), (_, .finishFailed), (_, .finishStopped): (state, "false")

        case (.queued, .interrupt): (.interrupted, "true")
        case (_, .interrupt): (state, "false")

        case (.queued, .resume), (.running, .resume), (.interrupted, .resume): (.queued, "true")
        case (.cancelling, .resume): (.cancelled, "false")
        case (_, .resume): (state, "false")
        }
    }

    static func apply(_ event: Event, to state: inout JobState) -> String {
        switch event {
        case .start: "\(state.start())"
        case .cancel: "\(state.cancel())"
        case .finishCompleted: "\(state.finish(.completed))"
        case .finishFailed: "\(state.finish(.failed))"
        case .finishStopped: "\(state.finish(.stopped))"
        case .interrupt: "\(state.interrupt())"
        case .resume: "\(state.resume())"
        }
    }

    @Test("every transition from every state goes where the table says", arguments: JobState.allCases, Event.allCases)
    func transition(from state: JobState, event: Event) {
        var after = state
        let returned = Self.apply(event, to: &after)
        let (expectedState, expectedReturn) = Self.expected(state, event)
        #expect(after == expectedState, "\(event) from \(state) should lead to \(expectedState), not \(after)")
        #expect(returned == expectedReturn, "\(event) from \(state) should return \(expectedReturn), not \(returned)")
    }

    @Test("a final state never changes again, whatever happens", arguments: [JobState.done, .failed, .cancelled])
    func finalStatesStay(_ state: JobState) {
        for event in Event.allCases {
            var after = state
            _ = Self.apply(event, to: &after)
            #expect(after == state, "\(event) changed final state \(state) to \(after)")
        }
    }

    @Test("a cancel is never lost: once requested, the job can end only cancelled, or done if its work had finished")
    func cancelIsKept() {
        for outcome in [JobState.Outcome.completed, .failed, .stopped] {
            var state = JobState.queued
            _ = state.start()
            _ = state.cancel()
            _ = state.finish(outcome)
            let allowed: [JobState] = outcome == .completed ? [.done] : outcome == .failed ? [.failed] : [.cancelled]
            #expect(allowed.contains(state), "cancelled while running, work \(outcome): ended \(state)")
            let resumes = state.resume()
            #expect(!resumes, "a job cancelled while running must not resume at the next start")
        }
    }

    @Test("the JSON names of the states are the ones the web page reads")
    func rawValues() {
        #expect(JobState.allCases.map(\.rawValue)
            == ["queued", "running", "cancelling", "done", "failed", "cancelled", "interrupted"])
    }
}
