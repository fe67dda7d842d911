/** Wire shapes of the Open Inference Protocol (KServe V2) REST API with JSON tensor data. */

export type OipParameterValue = string | number | boolean;
export type OipParameters = Record<string, OipParameterValue>;

export interface OipTensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

export interface OipServerMetadata {
  name: string;
  version: string;
  extensions: string[];
}

export interface OipModelMetadata {
  name: string;
  versions?: string[];
  platform: string;
  inputs: OipTensorMetadata[];
  outputs: OipTensorMetadata[];
  parameters?: OipParameters;
}

export interface OipResponseOutput {
  name: string;
  shape: number[];
  datatype: string;
  parameters?: OipParameters;
  data: (number | string | boolean | null)[];
}

export interface OipInferenceResponse {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: OipParameters;
  outputs: OipResponseOutput[];
}
