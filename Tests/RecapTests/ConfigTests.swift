import Foundation
import Recap
import TMLTrain
import XCTest

/// Config loading as a specification: the original's reference config loads unchanged,
/// `${VAR}` substitution follows Python's `Template.safe_substitute`, and every broken
/// rule (unknown key, missing key, one_of group) is an error naming file and key path.
final class ConfigTests: XCTestCase {
  static let repoRoot = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  static let fixtures = repoRoot.appendingPathComponent("Tests/Fixtures/configs")

  static func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

  /// `recap_local_prod.yaml` in $TML_REFERENCE_DIR, else in ../shared/reference beside the
  /// repository, or a skip.
  func referenceConfigPath() throws -> String {
    let dir = ProcessInfo.processInfo.environment["TML_REFERENCE_DIR"].map { URL(fileURLWithPath: $0) }
      ?? Self.repoRoot.appendingPathComponent("../shared/reference")
    let url = dir.appendingPathComponent("recap_local_prod.yaml").standardizedFileURL
    guard FileManager.default.fileExists(atPath: url.path) else {
      print("ConfigTests: skipping, \(url.path) is absent (../shared is not checked out beside the repository)")
      throw XCTSkip("\(url.path) absent: ../shared (the original's reference configs) is not checked out here")
    }
    return url.path
  }

  func loadReference(_ environment: [String: String] = ["HOME": "/home/tester", "TML_BASE": "/opt/tml"]) throws -> RecapConfig {
    try RecapConfig.load(from: referenceConfigPath(), environment: environment)
  }

  /// Runs `body`, expecting a `ConfigError`, and returns it.
  func configError<T>(_ body: () throws -> T, file: StaticString = #filePath, line: UInt = #line) -> ConfigError? {
    do {
      _ = try body()
      XCTFail("expected a ConfigError, but loading succeeded", file: file, line: line)
    } catch let error as ConfigError {
      return error
    } catch {
      XCTFail("expected a ConfigError, got \(type(of: error)): \(error)", file: file, line: line)
    }
    return nil
  }

  // MARK: The reference config

  func testReferenceConfigLoadsUnchanged() throws {
    let config = try loadReference()
    XCTAssertEqual(config.training.numTrainSteps, 10)
    XCTAssertEqual(config.training.numEvalSteps, 5)
    XCTAssertEqual(config.training.checkpointEveryN, 5)
    XCTAssertEqual(config.training.evalTimeoutInS, 7200)
    XCTAssertEqual(config.training.checkpointMaxToKeep, nil)
    XCTAssertEqual(config.model.multiTaskType, .shareAll)
    XCTAssertNil(config.whichMetrics)
  }

  func testReferenceTowersKeepFileOrderAndShape() throws {
    let model = try loadReference().model
    let names = ["is_favorited", "is_good_clicked_convo_desc_favorited_or_replied", "is_good_clicked_convo_desc_v2",
                 "is_negative_feedback_v2", "is_profile_clicked_and_profile_engaged", "is_replied",
                 "is_replied_reply_engaged_by_author", "is_report_tweet_clicked", "is_retweeted", "is_video_playback_50"]
    XCTAssertEqual(model.tasks.keys, names.map { "recap.engagement." + $0 })
    for (name, tower) in model.tasks {
      XCTAssertEqual(tower.mlpConfig?.layerSizes, [256, 128, 1], name)
      XCTAssertEqual(tower.mlpConfig?.batchNorm, RecapBatchNormConfig(affine: false, momentum: 0.1), name)
      XCTAssertEqual(tower.mlpConfig?.finalLayerActivation, false, name)
      XCTAssertNil(tower.maskNetConfig, name)
      XCTAssertEqual(tower.posWeight, 1.0, name)
    }
    XCTAssertEqual(model.tasks["recap.engagement.is_negative_feedback_v2"]?.mlpConfig?.dropout?.rate, 0.1)
    XCTAssertEqual(model.tasks["recap.engagement.is_report_tweet_clicked"]?.mlpConfig?.dropout?.rate, 0.2)
    XCTAssertNil(model.tasks["recap.engagement.is_favorited"]?.mlpConfig?.dropout)
  }

  func testReferenceBackboneIsAParallelMaskNet() throws {
    let reference = try loadReference()  // skips (outside XCTUnwrap) when ../shared is absent
    let backbone = try XCTUnwrap(reference.model.backbone)
    let maskNet = try XCTUnwrap(backbone.maskNetConfig)
    XCTAssertNil(backbone.mlpConfig)
    XCTAssertEqual(maskNet.maskBlocks.count, 4)
    for block in maskNet.maskBlocks {
      XCTAssertEqual(block, RecapMaskNetConfig.MaskBlock(outputSize: 1024, aggregationSize: 1024, inputLayerNorm: false))
    }
    XCTAssertEqual(maskNet.mlp, RecapMLPConfig(layerSizes: [2048], finalLayerActivation: true))
    XCTAssertTrue(maskNet.useParallel)
  }

  func testReferenceFeaturizationIsDoubleNormLog() throws {
    let reference = try loadReference()
    let featurization = try XCTUnwrap(reference.model.featurizationConfig)
    let doubleNorm = try XCTUnwrap(featurization.doubleNormLogConfig)
    XCTAssertEqual(doubleNorm.clipMagnitude, 5.0)
    XCTAssertEqual(doubleNorm.batchNormConfig, RecapBatchNormConfig(affine: true, momentum: 0.01))
    XCTAssertEqual(doubleNorm.layerNormConfig, RecapLayerNormConfig(epsilon: 0.0, axis: -1, center: true, scale: true))
    XCTAssertEqual(featurization.featureNamesToConcat, ["binary"])
    XCTAssertNil(featurization.log1pAbsConfig)
  }

  func testReferenceDataHasThirteenTasksInFileOrder() throws {
    let config = try loadReference()
    let data = config.trainData
    XCTAssertEqual(data.tasks.count, 13)
    XCTAssertEqual(data.tasks.keys.first, "recap.engagement.is_bookmarked")
    XCTAssertEqual(data.tasks.keys.last, "recap.engagement.is_video_playback_50")
    XCTAssertEqual(data.tasks.values, Array(repeating: RecapDatasetConfig.TaskData(), count: 13))
    XCTAssertEqual(data.globalBatchSize, 128)
    XCTAssertEqual(data.datasetServiceCompression, .auto)
    XCTAssertEqual(data.preprocess?.truncateAndSlice?.continuousFeatureTruncation, 2117)
    XCTAssertEqual(data.preprocess?.truncateAndSlice?.binaryFeatureTruncation, 59)
    XCTAssertEqual(data.segDenseSchema.renamedFeatures["continuous"], "home_recap_2022_cont__segdense_vals")
    XCTAssertEqual(data.segDenseSchema.renamedFeatures.count, 9)
    // Every model task has a label in the data.
    XCTAssertTrue(config.model.tasks.keys.allSatisfy { data.tasks[$0] != nil })
  }

  func testMergeKeyOverridesOneTaskAndKeepsTheOthers() throws {
    let validation = try loadReference().validationData
    XCTAssertEqual(validation.keys.prefix(3), ["validation", "train", "recap.engagement.is_favorited"])
    XCTAssertEqual(validation.count, 12)
    let favorited = try XCTUnwrap(validation["recap.engagement.is_favorited"])
    let task = try XCTUnwrap(favorited.tasks["recap.engagement.is_favorited"])
    XCTAssertEqual(task.negDownsamplingRate, 0.01)
    XCTAssertEqual(task.posDownsamplingRate, 0.8387)
    XCTAssertEqual(favorited.tasks["recap.engagement.is_replied"], RecapDatasetConfig.TaskData())
    // The merged mapping keeps the anchor's order; the override keeps its place.
    XCTAssertEqual(favorited.tasks.keys, try loadReference().trainData.tasks.keys)
    XCTAssertEqual(favorited.evaluationTasks, ["recap.engagement.is_favorited"])
    XCTAssertEqual(validation["recap.engagement.is_report_tweet_clicked"]?
      .tasks["recap.engagement.is_report_tweet_clicked"]?.negDownsamplingRate, 0.000014)
    XCTAssertEqual(validation["validation"]?.tasks["recap.engagement.is_favorited"], RecapDatasetConfig.TaskData())
  }

  func testReferenceOptimizerIsAdamWithPerTowerSchedules() throws {
    let optimizer = try loadReference().optimizer
    XCTAssertEqual(optimizer.adam, RecapOptimizerConfig.Adam(beta1: 0.95, beta2: 0.999, epsilon: 1e-7))
    XCTAssertNil(optimizer.singleTaskLearningRate)
    let rates = try XCTUnwrap(optimizer.multiTaskLearningRates)
    let backbone = try XCTUnwrap(rates.backboneLearningRate?.linearRampToConstant)
    XCTAssertEqual(backbone.learningRate, 1e-4)
    XCTAssertEqual(backbone.numRampSteps, 1000)
    XCTAssertNil(rates.backboneLearningRate?.constant)
    XCTAssertEqual(rates.towerLearningRates.count, 10)
    XCTAssertEqual(rates.towerLearningRates["recap.engagement.is_favorited"]?.linearRampToConstant,
                   .init(learningRate: 0.0008, numRampSteps: 5000))
    XCTAssertEqual(rates.towerLearningRates["recap.engagement.is_video_playback_50"]?.linearRampToConstant?.learningRate, 0.003)
  }

  func testHomeAndTMLBaseAreSubstituted() throws {
    let config = try loadReference(["HOME": "/home/tester", "TML_BASE": "/opt/tml"])
    XCTAssertEqual(config.training.saveDir, "/home/tester/tmp/runs/recap_local_debug")
    XCTAssertEqual(config.trainData.inputs, "/home/tester/tmp/recap_local_random_data/*.gz")
    XCTAssertEqual(config.validationData["train"]?.inputs, "/home/tester/tmp/recap_local_random_data/*.gz")
    XCTAssertEqual(config.trainData.segDenseSchema.schemaPath, "/opt/tml/projects/home/recap/config/home_recap_2022/segdense.json")
  }

  func testProcessEnvironmentIsTheDefault() throws {
    let home = try XCTUnwrap(ProcessInfo.processInfo.environment["HOME"])
    // TML_BASE (schema_path) is not set in the test environment: left as written.
    let config = try RecapConfig.load(from: referenceConfigPath(), allowUnsetEnvironment: true)
    XCTAssertEqual(config.training.saveDir, home + "/tmp/runs/recap_local_debug")
  }

  // MARK: The project's own minimal config and defaults

  func testMinimalConfigLoadsWithTheOriginalsDefaults() throws {
    let config = try RecapConfig.load(from: Self.fixture("recap_minimal.yaml"), environment: ["TML_TEST_DIR": "/t"])
    XCTAssertEqual(config.training.saveDir, "/t/run")
    XCTAssertEqual(config.training.checkpointEveryN, 1000)
    XCTAssertEqual(config.training.numEvalSteps, 16384)
    XCTAssertEqual(config.training.evalTimeoutInS, 3600)
    XCTAssertEqual(config.training.numEpochs, 1)
    XCTAssertEqual(config.optimizer.adam, RecapOptimizerConfig.Adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-7))
    XCTAssertEqual(config.optimizer.singleTaskLearningRate, .constant(0.001))
    XCTAssertEqual(config.model.tasks["recap.engagement.is_replied"]?.affineMap, .init(scale: 2.0, bias: 0.0))
    XCTAssertEqual(config.model.featurizationConfig?.log1pAbsConfig, RecapFeaturizationConfig.Log1pAbs())
    let data = config.trainData
    XCTAssertEqual(data.tasks["recap.engagement.is_replied"], .init(posDownsamplingRate: 1.0, negDownsamplingRate: 0.5))
    XCTAssertEqual(data.examplesShuffleBufferSize, 1024)
    XCTAssertEqual(data.fileBatchSize, 16)
    XCTAssertTrue(data.repeatFiles)
    XCTAssertFalse(data.ignoreDataErrors)
    XCTAssertEqual(data.evaluationTasks, [])
    XCTAssertEqual(config.validationData["validation"], data)
  }

  func testRecapTrainingDefaultsToAMillionSteps() throws {
    let yaml = try String(contentsOfFile: Self.fixture("recap_minimal.yaml"), encoding: .utf8)
      .replacingOccurrences(of: "  num_train_steps: 4\n", with: "")
    XCTAssertEqual(try RecapConfig.decode(yaml: yaml, environment: ["TML_TEST_DIR": "/t"]).training.numTrainSteps, 1_000_000)
    XCTAssertEqual(try YAMLLoader.decode(TrainingConfig.self, yaml: "save_dir: /x").numTrainSteps, 10_000)
  }

  func testExplicitNullIsTreatedAsAbsent() throws {
    let yaml = """
      double_norm_log_config: {clip_magnitude: null, batch_norm_config: null}
      feature_names_to_concat: null
      log1p_abs_config: null
      """
    let featurization = try YAMLLoader.decode(RecapFeaturizationConfig.self, yaml: yaml)
    XCTAssertEqual(featurization.doubleNormLogConfig, .init(clipMagnitude: 5.0))
    XCTAssertEqual(featurization.featureNamesToConcat, ["binary"])
  }

  func testConfigWrittenAsYAMLLoadsBackEqual() throws {
    let config = try loadReference()
    let text = try YAMLLoader.yaml(of: config)
    XCTAssertEqual(try RecapConfig.decode(yaml: text, environment: [:]), config)
    XCTAssertTrue(text.contains("num_epochs: 1"), "defaults are written out")
  }

  // MARK: Errors name the file and the key path

  func testUnknownKeyIsRejectedWithItsKeyPath() throws {
    let path = Self.fixture("unknown_key.yaml")
    let error = try XCTUnwrap(configError { try RecapConfig.load(from: path, environment: ["TML_TEST_DIR": "/t"]) })
    XCTAssertEqual(error.kind, .unknownKey)
    XCTAssertEqual(error.keyPath, #"model.tasks["recap.engagement.is_favorited"].mlp_config.layer_size"#)
    XCTAssertEqual(error.line, 13)
    XCTAssertTrue(error.description.hasPrefix(path + ":13: "), error.description)
    XCTAssertTrue(error.description.contains("Did you mean 'layer_sizes'?"), error.description)
    XCTAssertTrue(error.description.contains("accepts: layer_sizes, batch_norm, dropout, final_layer_activation"), error.description)
  }

  func testMissingRequiredKeyIsNamed() throws {
    let path = Self.fixture("missing_key.yaml")
    let error = try XCTUnwrap(configError { try RecapConfig.load(from: path, environment: ["TML_TEST_DIR": "/t"]) })
    XCTAssertEqual(error.kind, .missingKey)
    XCTAssertEqual(error.keyPath, "train_data.global_batch_size")
    XCTAssertTrue(error.description.hasPrefix(path + ":"), error.description)
    XCTAssertTrue(error.description.contains("required key 'global_batch_size' is missing"), error.description)
  }

  func testTwoLearningRateSchedulesAreRejected() throws {
    let path = Self.fixture("two_learning_rates.yaml")
    let error = try XCTUnwrap(configError { try RecapConfig.load(from: path, environment: ["TML_TEST_DIR": "/t"]) })
    XCTAssertEqual(error.kind, .oneOf)
    XCTAssertEqual(error.keyPath, "optimizer.single_task_learning_rate")
    XCTAssertTrue(error.description.hasPrefix(path + ":"), error.description)
    XCTAssertTrue(error.problem.contains("but 2 are: constant, linear_ramp_to_constant"), error.problem)
  }

  func testTwoDatasetInputsAreRejected() throws {
    let path = Self.fixture("two_inputs.yaml")
    let error = try XCTUnwrap(configError { try RecapConfig.load(from: path, environment: ["TML_TEST_DIR": "/t"]) })
    XCTAssertEqual(error.kind, .oneOf)
    XCTAssertEqual(error.keyPath, "train_data")
    XCTAssertTrue(error.problem.contains("inputs, explicit_datetime_inputs, explicit_date_inputs"), error.problem)
    XCTAssertTrue(error.description.hasPrefix(path + ":"), error.description)
  }

  func testTwoTowerArchitecturesAreRejected() throws {
    let yaml = """
      tasks:
        a.b:
          mlp_config: {layer_sizes: [1]}
          dcn_config: {poly_degree: 2}
      """
    let error = try XCTUnwrap(configError { try YAMLLoader.decode(RecapModelConfig.self, yaml: yaml, file: "inline.yaml") })
    XCTAssertEqual(error.keyPath, #"tasks["a.b"]"#)
    XCTAssertTrue(error.description.hasPrefix("inline.yaml:2: "), error.description)
  }

  func testTowerWithoutArchitectureIsRejected() throws {
    let error = try XCTUnwrap(configError { try YAMLLoader.decode(RecapModelConfig.self, yaml: "tasks: {t: {pos_weight: 2.0}}") })
    XCTAssertEqual(error.kind, .oneOf)
    XCTAssertTrue(error.problem.contains("but none is"), error.problem)
  }

  func testMaskBlockNeedsExactlyOneAggregationSize() throws {
    let yaml = "mask_blocks: [{output_size: 8, aggregation_size: 4, reduction_factor: 2.0, input_layer_norm: true}]"
    let error = try XCTUnwrap(configError { try YAMLLoader.decode(RecapMaskNetConfig.self, yaml: yaml) })
    XCTAssertEqual(error.keyPath, "mask_blocks[0]")
  }

  func testShareAllWithoutBackboneIsRejected() throws {
    let yaml = "multi_task_type: share_all\ntasks: {t: {mlp_config: {layer_sizes: [1]}}}"
    let error = try XCTUnwrap(configError { try YAMLLoader.decode(RecapModelConfig.self, yaml: yaml) })
    XCTAssertEqual(error.keyPath, "backbone")
  }

  func testUnknownEnumValueListsTheAcceptedOnes() throws {
    let yaml = "multi_task_type: share_some\ntasks: {t: {mlp_config: {layer_sizes: [1]}}}"
    let error = try XCTUnwrap(configError { try YAMLLoader.decode(RecapModelConfig.self, yaml: yaml) })
    XCTAssertEqual(error.keyPath, "multi_task_type")
    XCTAssertTrue(error.problem.contains("share_none, share_all, share_partial"), error.problem)
  }

  func testNonPositiveLayerSizeIsRejected() throws {
    let error = try XCTUnwrap(configError { try YAMLLoader.decode(RecapMLPConfig.self, yaml: "layer_sizes: [256, 0, 1]") })
    XCTAssertEqual(error.kind, .invalidValue)
    XCTAssertEqual(error.keyPath, "layer_sizes")
  }

  func testWrongValueTypeNamesTheListIndex() throws {
    let error = try XCTUnwrap(configError { try YAMLLoader.decode(RecapMLPConfig.self, yaml: "layer_sizes: [256, wide]") })
    XCTAssertEqual(error.kind, .typeMismatch)
    XCTAssertEqual(error.keyPath, "layer_sizes[1]")
    XCTAssertTrue(error.problem.contains("'wide'"), error.problem)
  }

  func testEvaluationTaskMustBeADatasetTask() throws {
    let yaml = """
      inputs: /x
      global_batch_size: 2
      seg_dense_schema: {schema_path: /s.json}
      tasks: {a: {}}
      evaluation_tasks: [b]
      """
    let error = try XCTUnwrap(configError { try YAMLLoader.decode(RecapDatasetConfig.self, yaml: yaml) })
    XCTAssertEqual(error.keyPath, "evaluation_tasks")
  }

  func testYAMLSyntaxErrorNamesTheLine() throws {
    let error = try XCTUnwrap(configError { try YAMLLoader.decode(TrainingConfig.self, yaml: "save_dir: /x\n  bad: [1, 2\n", file: "bad.yaml") })
    XCTAssertEqual(error.kind, .syntax)
    XCTAssertEqual(error.file, "bad.yaml")
    XCTAssertNotNil(error.line)
  }

  func testUnreadableFileSaysSo() throws {
    let error = try XCTUnwrap(configError { try RecapConfig.load(from: "/nonexistent/recap.yaml") })
    XCTAssertEqual(error.kind, .unreadable)
    XCTAssertTrue(error.description.hasPrefix("/nonexistent/recap.yaml: "), error.description)
  }

  // MARK: ${VAR} substitution (Python's Template.safe_substitute)

  func testBracedAndBareVariablesAreSubstituted() {
    XCTAssertEqual(EnvironmentTemplate.substitute("${HOME}/a $HOME/b $HOME_x", ["HOME": "/h"]), "/h/a /h/b $HOME_x")
  }

  func testDoubleDollarEscapesADollar() {
    XCTAssertEqual(EnvironmentTemplate.substitute("cost: $$5 and $${HOME}", ["HOME": "/h"]), "cost: $5 and ${HOME}")
  }

  func testUnknownVariableIsLeftAsWritten() {
    XCTAssertEqual(EnvironmentTemplate.substitute("${NOPE}/x $NOPE ${bad name} $ 5$", [:]), "${NOPE}/x $NOPE ${bad name} $ 5$")
  }

  func testSubstitutionAppliesBeforeParsing() throws {
    let training = try YAMLLoader.decode(TrainingConfig.self, yaml: "save_dir: $${NOPE}/$$run\nnum_train_steps: $STEPS",
                                         environment: ["STEPS": "7"])
    XCTAssertEqual(training.saveDir, "${NOPE}/$run")
    XCTAssertEqual(training.numTrainSteps, 7)
  }

  func testUnsetVariableIsAnErrorNamingTheLine() throws {
    let yaml = "# ${IN_A_COMMENT} is not read\nsave_dir: ${DATA_ROOT}/run\nnum_train_steps: $STEPS\n"
    let error = try XCTUnwrap(configError { try YAMLLoader.decode(TrainingConfig.self, yaml: yaml, file: "run.yaml", environment: [:]) })
    XCTAssertEqual(error.kind, .unsetVariable)
    XCTAssertEqual(error.line, 2)
    XCTAssertTrue(error.description.hasPrefix("run.yaml:2: ${DATA_ROOT} is not set"), error.description)
    for part in ["$STEPS at line 3", "export DATA_ROOT=", "$$", "--allow-unset-env"] {
      XCTAssertTrue(error.description.contains(part), "missing \(part): \(error.description)")
    }
    XCTAssertFalse(error.description.contains("IN_A_COMMENT"), error.description)
    XCTAssertEqual(EnvironmentTemplate.expand(yaml, ["DATA_ROOT": "/d", "STEPS": "3"]).unset, [])
  }

  func testAllowUnsetEnvironmentLeavesUnsetVariablesAsWritten() throws {
    let training = try YAMLLoader.decode(TrainingConfig.self, yaml: "save_dir: ${NOPE}/run\nnum_train_steps: 7", environment: [:],
                                         allowUnsetEnvironment: true)
    XCTAssertEqual(training.saveDir, "${NOPE}/run")
    let path = Self.fixture("recap_minimal.yaml")
    let error = try XCTUnwrap(configError { try RecapConfig.load(from: path, environment: [:]) })
    XCTAssertTrue(error.description.hasPrefix("\(path):4: ${TML_TEST_DIR} is not set"), error.description)
    let config = try RecapConfig.load(from: path, environment: [:], allowUnsetEnvironment: true)
    XCTAssertEqual(config.training.saveDir, "${TML_TEST_DIR}/run")
  }

  func testUserIsTheLoginName() {
    let variables = EnvironmentTemplate.processVariables()
    XCTAssertNotNil(variables["USER"])
  }

  // MARK: YAML merge keys

  func testMergeKeyListEarlierMappingWins() throws {
    let root = try ConfigNode.parse(yaml: """
      a: &a {x: 1, y: 1}
      b: &b {y: 2, z: 2}
      c: {<<: [*a, *b], z: 3, w: 4}
      """)
    let c = try XCTUnwrap(root["c"])
    XCTAssertEqual(c.mappingKeys, ["y", "z", "x", "w"])
    XCTAssertEqual(ConfigValue(c), .map(["y": .int(1), "z": .int(3), "x": .int(1), "w": .int(4)]))
  }
}
