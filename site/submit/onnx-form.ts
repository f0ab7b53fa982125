// The ONNX part of the submit page: a dropped (or chosen) .onnx model is read here to show its inputs and outputs,
// hashed with SHA-256 and uploaded as a content-addressed blob with progress; chunk inputs come from JSON or from .npy
// files split into batches; outputs and execution providers are optional. `fields()` gives the job's ONNX fields.
import { ErrorCode, type ErrorBody, type ExecutionProvider, type OnnxChunkInput } from '../../protocol/index.js';
import { bytesSource, readModelInfo, type ModelInfo } from '../../coordinator/src/onnx/model-proto.js';
import { forgetApiKey, rememberApiKey, storedApiKey } from '../shared/api-key.js';
import { blobUrl } from '../shared/api.js';
import { askForApiKey } from '../shared/key-form.js';
import { byId, h, setText } from '../shared/dom.js';
import { formatBytes, plural } from '../shared/format.js';
import { parseNpy, type NpyArray } from './npy.js';
import { chunkArrays, describeModelValue, matchNpyFiles, parseJsonChunks, type ParsedChunks } from './onnx-inputs.js';

interface LoadedModel {
  file: File;
  name: string;
  info: ModelInfo;
  /** Settles when the blob is stored on the coordinator. */
  uploaded: Promise<void>;
}

export type OnnxFields = { model: string; inputs: OnnxChunkInput[]; outputs?: string[]; executionProviders?: ExecutionProvider[] };

/** `sha256:<hex>` of the bytes, the name the coordinator's blob store gives them. */
async function blobName(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return `sha256:${Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * PUT /api/blobs/<name> with upload progress (fetch cannot report it; XMLHttpRequest can), with the stored API key.
 * When the coordinator wants a key (401 API_KEY_REQUIRED), the key form asks for one and the upload starts again;
 * the key is kept once an upload with it succeeds.
 */
async function uploadBlob(name: string, body: Blob, onProgress: (fraction: number) => void): Promise<void> {
  let key = storedApiKey();
  let typed = false;
  for (;;) {
    const refusal = await uploadOnce(name, body, onProgress, key);
    if (!refusal) {
      if (typed && key) rememberApiKey(key);
      return;
    }
    if (!typed && key !== null) forgetApiKey(); // a stored key answered 401 is unknown or revoked
    const entered = await askForApiKey({ status: 401, keySent: key !== null });
    if (!entered) throw new Error('uploading the model failed: this coordinator needs an API key');
    [key, typed] = [entered, true];
  }
}

/** One upload; resolves 'key' when the coordinator refused it for its key, undefined once the blob is stored. */
function uploadOnce(name: string, body: Blob, onProgress: (fraction: number) => void, key: string | null): Promise<'key' | undefined> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('PUT', blobUrl(name));
    request.setRequestHeader('Content-Type', 'application/octet-stream');
    if (key) request.setRequestHeader('Authorization', `Bearer ${key}`);
    request.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    request.addEventListener('load', () => {
      if (request.status < 300) return resolve(undefined);
      let message = `HTTP ${request.status}`;
      try {
        const error = (JSON.parse(request.responseText) as ErrorBody).error;
        if (request.status === 401 && error.code === ErrorCode.ApiKeyRequired) return resolve('key');
        message = error.message;
      } catch {
        // keep the status
      }
      reject(new Error(`uploading the model failed: ${message}`));
    });
    request.addEventListener('error', () => reject(new Error('uploading the model failed: the coordinator could not be reached')));
    request.send(body);
  });
}

export class OnnxForm {
  private model?: LoadedModel;
  private npy: { file: string; array: NpyArray }[] = [];
  private npyError?: string;
  private readonly drop = byId('model-drop');
  private readonly modelInput = byId<HTMLInputElement>('model-input');
  private readonly status = byId('model-status');
  private readonly progress = byId<HTMLProgressElement>('model-progress');
  private readonly info = byId('model-info');
  private readonly inputsKind = () => (byId<HTMLInputElement>('onnx-inputs-npy').checked ? 'npy' : 'json');
  private readonly jsonInput = byId<HTMLTextAreaElement>('onnx-inputs-input');
  private readonly npyInput = byId<HTMLInputElement>('npy-input');
  private readonly batchInput = byId<HTMLInputElement>('batch-size-input');
  private readonly count = byId('onnx-inputs-count');
  private readonly providers = byId<HTMLSelectElement>('providers-select');

  constructor(private readonly onChange: () => void) {
    this.modelInput.addEventListener('change', () => {
      const file = this.modelInput.files?.[0];
      if (file) void this.load(file);
    });
    this.drop.addEventListener('dragover', (event) => {
      event.preventDefault();
      this.drop.dataset.over = 'yes';
    });
    this.drop.addEventListener('dragleave', () => delete this.drop.dataset.over);
    this.drop.addEventListener('drop', (event) => {
      event.preventDefault();
      delete this.drop.dataset.over;
      const file = event.dataTransfer?.files[0];
      if (file) void this.load(file);
    });
    for (const radio of [byId('onnx-inputs-json'), byId('onnx-inputs-npy')]) radio.addEventListener('change', () => this.showInputsKind());
    this.npyInput.addEventListener('change', () => void this.readNpyFiles());
    this.jsonInput.addEventListener('input', () => this.updateCount());
    this.batchInput.addEventListener('input', () => this.updateCount());
    this.showInputsKind();
  }

  /** Reads the model's interface, then hashes and uploads it. */
  async load(file: File): Promise<void> {
    this.model = undefined;
    this.info.hidden = true;
    this.progress.hidden = true;
    this.status.dataset.state = 'busy';
    setText(this.status, `Reading ${file.name}…`);
    const bytes = new Uint8Array(await file.arrayBuffer());
    let info: ModelInfo;
    try {
      info = readModelInfo(bytesSource(bytes));
    } catch (error) {
      this.fail(`${file.name} is not a readable ONNX model (${error instanceof Error ? error.message : String(error)})`);
      return;
    }
    const name = await blobName(bytes);
    this.showInfo(info);
    this.progress.hidden = false;
    this.progress.value = 0;
    setText(this.status, `Uploading ${file.name} (${formatBytes(file.size)})…`);
    const uploaded = uploadBlob(name, file, (fraction) => {
      this.progress.value = fraction;
      setText(this.status, `Uploading ${file.name}: ${Math.floor(fraction * 100)}% of ${formatBytes(file.size)}`);
    });
    const model: LoadedModel = { file, name, info, uploaded };
    this.model = model;
    this.onChange();
    try {
      await uploaded;
      if (this.model !== model) return;
      this.progress.hidden = true;
      this.status.dataset.state = 'ok';
      setText(this.status, `${file.name} (${formatBytes(file.size)}) uploaded as ${name.slice(0, 19)}…`);
    } catch (error) {
      if (this.model === model) this.fail(error instanceof Error ? error.message : String(error));
    }
    this.updateCount();
  }

  /** The job's ONNX fields, or what to fix. Waits for the model's upload. */
  async fields(): Promise<{ ok: true; fields: OnnxFields } | { ok: false; error: string }> {
    const model = this.model;
    if (!model) return { ok: false, error: 'Drop a .onnx model file (or choose one).' };
    try {
      await model.uploaded;
    } catch (error) {
      return { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
    const chunks = this.chunks();
    if (!chunks.ok) return { ok: false, error: `Inputs: ${chunks.error}` };
    const checked = [...this.info.querySelectorAll<HTMLInputElement>('input[data-output]')];
    const outputs = checked.filter((box) => box.checked).map((box) => box.dataset.output!);
    if (outputs.length === 0) return { ok: false, error: 'Choose at least one output to return.' };
    const providers = this.providers.value.split(',') as ExecutionProvider[];
    return {
      ok: true,
      fields: {
        model: model.name,
        inputs: chunks.inputs,
        ...(outputs.length < checked.length ? { outputs } : {}),
        ...(this.providers.value !== 'webgpu,wasm' ? { executionProviders: providers } : {}),
      },
    };
  }

  private chunks(): ParsedChunks {
    if (this.inputsKind() === 'json') return parseJsonChunks(this.jsonInput.value);
    if (this.npyError) return { ok: false, error: this.npyError };
    if (this.npy.length === 0) return { ok: false, error: 'choose one .npy file per model input' };
    if (!this.model) return { ok: false, error: 'drop the model first: its inputs decide which file feeds which' };
    const matched = matchNpyFiles(this.npy.map((n) => n.file), this.model.info.inputs.map((input) => input.name));
    if (!matched.ok) return matched;
    const arrays = Object.fromEntries(this.npy.map(({ file, array }) => [matched.inputs.get(file)!, array]));
    return chunkArrays(arrays, Number(this.batchInput.value));
  }

  private async readNpyFiles(): Promise<void> {
    this.npy = [];
    this.npyError = undefined;
    for (const file of this.npyInput.files ?? []) {
      try {
        this.npy.push({ file: file.name, array: parseNpy(new Uint8Array(await file.arrayBuffer())) });
      } catch (error) {
        this.npyError = `${file.name} ${error instanceof Error ? error.message : String(error)}`;
        break;
      }
    }
    this.updateCount();
  }

  private updateCount(): void {
    const empty = this.inputsKind() === 'json' ? this.jsonInput.value.trim() === '' : this.npy.length === 0 && !this.npyError;
    if (empty) {
      setText(this.count, '');
      this.count.dataset.state = 'empty';
      return;
    }
    const chunks = this.chunks();
    setText(this.count, chunks.ok ? plural(chunks.inputs.length, 'chunk') : chunks.error);
    this.count.dataset.state = chunks.ok ? 'ok' : 'error';
  }

  private showInputsKind(): void {
    const npy = this.inputsKind() === 'npy';
    byId('onnx-json-fields').hidden = npy;
    byId('onnx-npy-fields').hidden = !npy;
    this.updateCount();
  }

  private showInfo(info: ModelInfo): void {
    const row = (text: string) => h('li', { 'data-testid': 'model-value' }, h('code', {}, text));
    this.info.replaceChildren(
      h('h3', {}, 'Model inputs'),
      h('ul', { class: 'model-values', 'data-testid': 'model-inputs' }, ...info.inputs.map((value) => row(describeModelValue(value)))),
      h('h3', {}, 'Model outputs ', h('span', { class: 'optional' }, '(untick the ones you do not need)')),
      h(
        'ul',
        { class: 'model-values', 'data-testid': 'model-outputs' },
        ...info.outputs.map((value) => {
          const id = `output-${value.name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
          return h(
            'li',
            { class: 'field-check' },
            h('input', { type: 'checkbox', id, checked: true, 'data-output': value.name, 'data-testid': id }),
            h('label', { for: id }, h('code', {}, describeModelValue(value))),
          );
        }),
      ),
    );
    this.info.hidden = false;
    this.updateCount();
  }

  private fail(message: string): void {
    this.model = undefined;
    this.progress.hidden = true;
    this.status.dataset.state = 'error';
    setText(this.status, message);
    this.onChange();
  }
}
