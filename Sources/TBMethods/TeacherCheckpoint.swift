// Reading back what ContrastiveTrainer.save wrote, for tb-teach --resume: the backbone
// (without a classifier), the projection head and every batch norm's count.

import TBCore
import TBNN
import TBStream
import TBTensor

extension ContrastiveTrainer {
    /// The backbone and head of a teacher checkpoint, every tensor loaded (strictly: each must
    /// be in the file with its shape). The head's sizes come from its weights.
    public static func loadTeacher(_ file: SafeTensorsFile) throws -> (model: ResNet, head: ProjectionHead) {
        func fail(_ m: String, tensor: String? = nil) -> Failure { Failure(.dataError, m, file: file.name, tensor: tensor) }
        guard let arch = file.metadata["arch"] else { throw fail("no \"arch\" in __metadata__: not a tb-teach checkpoint") }
        let spec: ArchitectureSpec
        do { spec = try ArchitectureSpec(parsing: arch) } catch let f as Failure { throw fail("__metadata__ arch: \(f.message)") }
        let shapes = Dictionary(file.entries.map { ($0.name, $0.shape) }, uniquingKeysWith: { a, _ in a })
        guard let first = shapes["head.0.weight"], first.count == 2, let second = shapes["head.3.weight"], second.count == 2 else {
            throw fail("no projection head (head.0.weight, head.3.weight): not a tb-teach checkpoint")
        }
        let model = ResNet(spec: spec, classes: 1)
        let head = ProjectionHead(in: spec.width * 8, hidden: first[0], out: second[0])
        let parameters = ContrastiveTrainer.parameters(model, head)
        let buffers = model.buffers + head.buffers
        for (name, shape, set) in parameters.map({ p in (p.name, p.shape, { p.value = $0 } as (Tensor) -> Void) })
            + buffers.map({ b in (b.name, b.value.shape, { b.value = $0 } as (Tensor) -> Void) }) {
            guard let saved = shapes[name] else { throw fail("missing from the teacher checkpoint", tensor: name) }
            guard saved == shape else {
                throw fail("checkpoint has shape \(saved), the teacher needs \(shape)", tensor: name)
            }
            set(Tensor(shape: shape, data: try file.floats(name)))
        }
        try restoreBatchCounts(model.batchNorms + [head.norm], from: file)
        return (model, head)
    }
}
