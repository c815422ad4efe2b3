import Foundation

/// The colours of the shapes model's world, with the base sRGB values it was trained on.
public enum ShapeColour: String, Sendable, CaseIterable {
    case red, green, blue, yellow, purple, orange

    public var rgb: (UInt8, UInt8, UInt8) {
        switch self {
        case .red: (215, 35, 35)
        case .green: (40, 165, 60)
        case .blue: (35, 75, 215)
        case .yellow: (240, 210, 30)
        case .purple: (135, 50, 180)
        case .orange: (245, 135, 25)
        }
    }
}

/// The shapes of the shapes model's world.
public enum ShapeKind: String, Sendable, CaseIterable {
    case circle, square, triangle
}

/// Paints one anti-aliased shape on a plain background: the pictures of the demo library and the
/// end-to-end tests, drawn like the ones the shapes model was trained on.
public struct ShapePainter: Sendable {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// RGB8 pixels of `colour` `shape` with its centre at (`x`, `y`) (fractions of the picture) and size
    /// `scale` (a fraction of the shorter side), on `background`.
    public func paint(
        _ shape: ShapeKind, _ colour: ShapeColour, x: Double = 0.5, y: Double = 0.5, scale: Double = 0.55,
        rotation: Double = 0, background: (UInt8, UInt8, UInt8) = (235, 235, 230)
    ) -> [UInt8] {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        let radius = scale * Double(min(width, height)) / 2
        let cx = x * Double(width)
        let cy = y * Double(height)
        let fill = colour.rgb
        let samples = 4
        for py in 0..<height {
            for px in 0..<width {
                var covered = 0
                for sy in 0..<samples {
                    for sx in 0..<samples {
                        let dx = Double(px) + (Double(sx) + 0.5) / Double(samples) - cx
                        let dy = Double(py) + (Double(sy) + 0.5) / Double(samples) - cy
                        if Self.inside(shape, dx: dx, dy: dy, radius: radius, rotation: rotation) { covered += 1 }
                    }
                }
                let alpha = Double(covered) / Double(samples * samples)
                let offset = (py * width + px) * 3
                pixels[offset] = Self.mix(background.0, fill.0, alpha)
                pixels[offset + 1] = Self.mix(background.1, fill.1, alpha)
                pixels[offset + 2] = Self.mix(background.2, fill.2, alpha)
            }
        }
        return pixels
    }

    private static func mix(_ a: UInt8, _ b: UInt8, _ t: Double) -> UInt8 {
        UInt8((Double(a) * (1 - t) + Double(b) * t).rounded())
    }

    private static func inside(_ shape: ShapeKind, dx: Double, dy: Double, radius: Double, rotation: Double) -> Bool {
        let c = cos(-rotation), s = sin(-rotation)
        let x = dx * c - dy * s
        let y = dx * s + dy * c
        switch shape {
        case .circle:
            return x * x + y * y <= radius * radius
        case .square:
            let half = radius * 0.85
            return abs(x) <= half && abs(y) <= half
        case .triangle:
            // An upright equilateral triangle inscribed in the circle of `radius`: apex at -radius, base at
            // radius / 2, half-width growing by tan(30 degrees) per unit of height.
            return y >= -radius && y <= radius / 2 && abs(x) <= (y + radius) * 0.57735
        }
    }
}
