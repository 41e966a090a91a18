import ArgumentParser
import Foundation
import Recap
import TMLDistributed
import TMLTensor
import TMLTrain

/// `tml recap …`: the Heavy Ranker.
struct RecapCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "recap", abstract: "The Heavy Ranker: generate data, train, evaluate, predict, score, import PyTorch weights, export to ONNX.",
    subcommands: [GenerateData.self, Train.self, Eval.self, Predict.self, Score.self, ImportTorch.self, ExportONNX.self, ExportInputs.self])

  struct Common: ParsableArguments {
    @Option(name: .shortAndLong, help: "The run's YAML config (e.g. configs/recap/small.yaml).") var config: String
    @Option(help: "Random seed for initialisation, shuffling and generated data.") var seed: UInt64 = 0
    @Option(help: "Parse worker threads of the input pipeline.") var workers: Int = 1
    @Flag(help: "Leave ${VAR}s that are not set in the environment as written (the original's safe_substitute) instead of failing.") var allowUnsetEnv = false

    func run(saveDir: String? = nil, steps: Int? = nil) throws -> RecapRun {
      let run = try RecapRun(configPath: config, saveDir: saveDir, steps: steps, allowUnsetEnvironment: allowUnsetEnv)
      run.seed = seed
      run.workerThreads = workers
      run.communicator = try Distributed.communicator()
      if run.communicator.isDistributed { Parallelism.threadCount = Distributed.threadsPerRank() }
      return run
    }
  }

  struct GenerateData: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate-data",
      abstract: "Write random tf.Example TFRecords (with a planted signal) for the config's train and validation inputs.")
    @OptionGroup var common: Common
    @Option(help: "Training examples (validation sets get a fifth).") var examples: Int = 20_000
    @Option(help: "Write under this directory instead of where the config's inputs point.") var out: String?

    func run() throws {
      let run = try common.run()
      try run.communicator.requireSingleProcess("tml recap generate-data")
      let bar = ProgressBar(total: examples + examples / 5 * max(run.config.validationData.count, 1), label: "examples")
      let files = try run.generateData(examples: examples, outDirectory: out.map { URL(fileURLWithPath: $0) }, progress: { bar.update($0) })
      bar.finish()
      print("wrote \(files.count) files:")
      for f in files { print("  \(f)") }
    }
  }

  struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Train (resuming from the newest checkpoint; the save dir is locked meanwhile), then evaluate each validation dataset.")
    @OptionGroup var common: Common
    @Option(help: "Override training.save_dir.") var saveDir: String?
    @Option(help: "Override training.num_train_steps.") var steps: Int?
    @Option(help: "Resume from this checkpoint of the save dir (step_<N>) instead of the newest; newer ones are set aside.") var resumeFrom: String?

    func run() throws {
      let run = try common.run(saveDir: saveDir, steps: steps)
      run.resumeFrom = resumeFrom
      if run.communicator.rank == 0 && run.communicator.isDistributed {
        let overlap = DataParallel.overlapByDefault() ? "started during backward" : "after backward"
        let tables = run.spec.largeEmbeddings.isEmpty ? "" : "; large_embeddings tables row-sharded over the ranks"
        print("data-parallel on \(run.communicator.worldSize) ranks: \(run.trainData.globalBatchSize / run.communicator.worldSize) rows per rank of each global batch of \(run.trainData.globalBatchSize); gradient all-reduce \(overlap)\(tables)")
      }
      let bar = ProgressBar(total: run.config.training.numTrainSteps, label: "train")
      let evalBars = WorkProgressBars()
      try run.train(onEvent: { event in
        switch event {
        case .resumed(let step, let url): print("resumed at step \(step) from \(url.path)")
        case .warmStarted(let url): print("warm-started from \(url.path)")
        case .progress(let step, _): bar.update(step)
        case .logged(let step, let values): bar.log(Report.trainLine(step: step, values))
        case .checkpointed(let step, let url): bar.log("checkpoint step \(step) → \(url.path)")
        case .skippedRecords(let step, let file): bar.log(Report.skippedDuringTraining(step: step, file))
        case .finished(let step, let seconds): bar.finish(); print(String(format: "finished at step %d in %.1f s", step, seconds))
        case .warning(let w): bar.log("warning: \(w)")
        }
      }, onEvalProgress: evalBars.report, onEval: { name, result in print(Report.evalTable(name, result)) })
      if run.communicator.rank == 0 {
        print("logs: \(run.saveDir.appendingPathComponent("metrics.jsonl").path), TensorBoard: \(run.saveDir.appendingPathComponent("tensorboard").path)")
      }
    }
  }

  struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Evaluate a checkpoint on every validation dataset.")
    @OptionGroup var common: Common
    @Option(help: "A step_<N> checkpoint directory, or a save dir (newest step).") var checkpoint: String
    @Option(help: "Inference arithmetic: fp32, or bf16 (weights and layer inputs rounded to bfloat16, fp32 sums; AVX-512 BF16 where the CPU has it). See docs/engine.md.")
    var precision: Precision = .fp32

    func run() throws {
      Precision.inference = precision
      let run = try common.run(saveDir: checkpoint)
      let (model, step) = try run.loadModel(checkpoint: URL(fileURLWithPath: checkpoint))
      if FileManager.default.fileExists(atPath: URL(fileURLWithPath: checkpoint).appendingPathComponent("state.json").path) {
        run.saveDir = URL(fileURLWithPath: checkpoint).deletingLastPathComponent().deletingLastPathComponent()
      }
      _ = try run.evaluate(model: model, step: step, onProgress: WorkProgressBars().report) { name, result in print(Report.evalTable(name, result)) }
    }
  }

  struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write per-example logits, probabilities and calibrated probabilities (TSV, or JSONL by extension).")
    @OptionGroup var common: Common
    @Option(help: "A step_<N> checkpoint directory, or a save dir (newest step).") var checkpoint: String
    @Option(help: "Glob of TFRecord files to score.") var input: String
    @Option(help: "Output file (.tsv or .jsonl).") var output: String
    @Option(help: "Inference arithmetic: fp32, or bf16 (weights and layer inputs rounded to bfloat16, fp32 sums; AVX-512 BF16 where the CPU has it). See docs/engine.md.")
    var precision: Precision = .fp32

    func run() throws {
      Precision.inference = precision
      let run = try common.run()
      try run.communicator.requireSingleProcess("tml recap predict")
      let (model, _) = try run.loadModel(checkpoint: URL(fileURLWithPath: checkpoint))
      let summary = try run.predict(model: model, inputGlob: input, output: output, onProgress: WorkProgressBars().report)
      print("wrote \(summary.rows) predictions to \(output)")
      if summary.rowsNotWritten > 0 {
        print(Report.skippedRecords(summary.skipped, outcome: "\(summary.rowsNotWritten) rows not written").joined(separator: "\n"))
      }
    }
  }

  struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The weighted engagement score of predict's output, with each head's contribution.")
    @Option(help: "predict's output (.tsv or .jsonl).") var predictions: String
    @Option(help: "YAML/JSON {head: weight} overriding the default (April 2023) weights.") var weights: String?
    @Option(help: "Output file (.tsv); default: print the top rows.") var output: String?
    @Option(help: "Rows to print when no output file is given.") var top: Int = 10

    func run() throws {
      let score = try weights.map { try EngagementScore(overridesFrom: $0) } ?? EngagementScore()
      let table = try PredictionTable(path: predictions)
      let text = try table.scored(by: score, output: output, top: top)
      print(text)
    }
  }

  struct ImportTorch: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "import-torch",
      abstract: "Check a PyTorch state dict of the original (as safetensors) against the config's model and save it as a checkpoint.",
      discussion: """
        Convert the original's checkpoint to safetensors in Python first:
          import torch; from safetensors.torch import save_file
          sd = torch.load("model.pt", map_location="cpu"); sd = sd.get("model", sd)
          save_file({k: v.contiguous() for k, v in sd.items()}, "model.safetensors")
        """)
    @OptionGroup var common: Common
    @Option(help: "The state dict as safetensors.") var stateDict: String
    @Option(help: "Save dir for the imported checkpoint.") var out: String

    func run() throws {
      let url = try common.run().importTorch(stateDict: stateDict, out: URL(fileURLWithPath: out))
      print("imported \(stateDict) → \(url.path)")
    }
  }
}

extension Precision: ExpressibleByArgument {}
