import Testing
@testable import Loupe

@Suite("VideoSegmenter")
struct VideoSegmenterTests {
    /// One frame a second for `duration` seconds; frames in [4, 8) look like `special`, the rest like `plain`.
    func frames(duration: Int) -> [FrameEmbedding] {
        let plain = TestVectors.axis(0, dimension: 4)
        let special = TestVectors.axis(1, dimension: 4)
        return (0..<duration).map { FrameEmbedding(time: Double($0), vector: (4..<8).contains($0) ? special : plain) }
    }

    @Test("fixed segments cover the video in 6 s steps with their own time ranges")
    func fixedSegments() throws {
        let (segments, video) = try VideoSegmenter(strategy: .fixed(seconds: 6)).segments(frames: frames(duration: 14), duration: 14)
        #expect(segments.map(\.start) == [0, 6, 12])
        #expect(segments.map(\.end) == [6, 12, 14])
        #expect(abs(VectorMath.dot(video, video) - 1) < 1e-5)
        // The first segment holds frames 4 and 5 of the special content, so it leans that way.
        #expect(VectorMath.dot(segments[0].vector, TestVectors.axis(1, dimension: 4)) > 0.4)
        #expect(segments[0].thumbnailTime < 6)
    }

    @Test("a sliver at the end joins the last segment")
    func sliverFolded() throws {
        let segmenter = VideoSegmenter(strategy: .fixed(seconds: 6))
        #expect(try segmenter.boundaries(duration: 12.4) == [0, 6, 12.4])
        #expect(try segmenter.boundaries(duration: 3) == [0, 3])
    }

    @Test("scene segments follow the cuts, so the 4-8 s scene is its own moment")
    func sceneSegments() throws {
        let (segments, _) = try VideoSegmenter(strategy: .scenes(cuts: [8, 4, 4, 20])).segments(frames: frames(duration: 12), duration: 12)
        #expect(segments.map { [$0.start, $0.end] } == [[0, 4], [4, 8], [8, 12]])
        #expect(VectorMath.dot(segments[1].vector, TestVectors.axis(1, dimension: 4)) > 0.999)
        #expect((4..<8).contains(segments[1].thumbnailTime))
    }

    @Test("no frames, a bad duration or a bad length are errors")
    func errors() {
        #expect(throws: LoupeError.self) { try VideoSegmenter().segments(frames: [], duration: 5) }
        #expect(throws: LoupeError.self) { try VideoSegmenter().segments(frames: frames(duration: 2), duration: 0) }
        #expect(throws: LoupeError.self) {
            try VideoSegmenter(strategy: .fixed(seconds: 0)).segments(frames: frames(duration: 2), duration: 2)
        }
    }
}
