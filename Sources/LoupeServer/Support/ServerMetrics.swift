import Foundation
import Hummingbird
import Loupe
import Prometheus

/// Prometheus metrics of one server, kept in its own registry (so tests can run several servers in one
/// process) and rendered at `/metrics`.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let buckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .milliseconds(2500), .seconds(5), .seconds(10),
    ]
    let embedding: DurationHistogram
    let searches: DurationHistogram
    let indexedRows: Gauge
    let images: Gauge
    let videos: Gauge
    let jobsRunning: Gauge
    let embeddedTotal: Counter

    init() {
        embedding = registry.makeDurationHistogram(
            descriptor: Self.metric("loupe_query_embedding_seconds", "Time to turn a search's inputs into one query vector"),
            buckets: buckets)
        searches = registry.makeDurationHistogram(
            descriptor: Self.metric("loupe_search_seconds", "Time of a whole search: embedding, vector search and loading the results"),
            buckets: buckets)
        indexedRows = registry.makeGauge(descriptor: Self.metric("loupe_index_rows", "Rows (images, moments, videos) in the media collection"))
        images = registry.makeGauge(descriptor: Self.metric("loupe_index_images", "Images in the media collection"))
        videos = registry.makeGauge(descriptor: Self.metric("loupe_index_videos", "Videos in the media collection"))
        jobsRunning = registry.makeGauge(descriptor: Self.metric("loupe_jobs_running", "Indexing jobs running"))
        embeddedTotal = registry.makeCounter(
            descriptor: Self.metric("loupe_ingest_embedded_total", "Pictures and frames embedded by indexing jobs"))
    }

    /// A metric named in full (the unit already part of the name).
    private static func metric(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    func recordRequest(method: String, route: String, status: Int, duration: Duration) {
        let labels = [("method", method), ("route", route), ("status", String(status))]
        registry.makeCounter(descriptor: Self.metric("loupe_http_requests_total", "HTTP requests by method, route and status"),
                             labels: labels).increment()
        registry.makeDurationHistogram(
            descriptor: Self.metric("loupe_http_request_duration_seconds", "HTTP request latency by route"),
            labels: [("method", method), ("route", route)], buckets: buckets).record(duration)
    }

    func render() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        // Calls to cloud providers (remote embedders), counted process-wide by the provider clients.
        return String(decoding: buffer, as: UTF8.self) + ProviderMetrics.shared.render()
    }
}

/// Counts requests and their latency per route (the route pattern, not the raw path, so ids do not
/// make new series).
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = LoupeRequestContext
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        let started = ContinuousClock.now
        do {
            let response = try await next(request, context)
            metrics.recordRequest(method: request.method.rawValue, route: context.endpointPath ?? "unmatched",
                                  status: response.status.code, duration: started.duration(to: .now))
            return response
        } catch {
            let status = APIError.from(error).status.code
            metrics.recordRequest(method: request.method.rawValue, route: context.endpointPath ?? "unmatched",
                                  status: status, duration: started.duration(to: .now))
            throw error
        }
    }
}
