// Models: the library's models and their compiled variants (with the disk each takes), adding one
// by compiling a checkpoint folder on the server (the shipped demo model in one click), with
// progress, ETA and Cancel; the engine's provider; removing a variant or a model.
import { Alert, Badge, Button, Card, Group, Modal, Select, Stack, Table, Text, Title } from '@mantine/core';
import { useCallback, useEffect, useState } from 'react';
import { COMPILE_PROVIDERS, PRECISIONS, type AppResult } from '../../../../preload/contract.ts';
import { useStudio } from '../../studio.tsx';
import { PathField } from '../../components/FilePicker.tsx';
import { RunProgress } from '../../components/RunProgress.tsx';
import { errorText, formatBytes, useRun } from '../../components/run.ts';

type Models = AppResult<'models.list'>;
type Disk = AppResult<'models.disk'>;
type Removal = { kind: 'variant'; id: string; what: string } | { kind: 'model'; id: string; what: string };

export function ModelsScreen() {
  const { api } = useStudio();
  const [models, setModels] = useState<Models | null>(null);
  const [disk, setDisk] = useState<Disk | null>(null);
  const [status, setStatus] = useState<AppResult<'models.status'> | undefined>(undefined);
  const [memory, setMemory] = useState<AppResult<'app.memory'> | null>(null);
  const [demoDir, setDemoDir] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [dir, setDir] = useState('');
  const [precision, setPrecision] = useState<string | null>(null);
  const [provider, setProvider] = useState<string | null>(null);
  const [removal, setRemoval] = useState<Removal | null>(null);
  const compile = useRun();

  const refresh = useCallback(() => {
    Promise.all([api['models.list']({}), api['models.disk']({}), api['models.status']({}), api['app.memory']({})]).then(
      ([m, d, s, mem]) => {
        setModels(m);
        setDisk(d);
        setStatus(s);
        setMemory(mem);
      },
      (e: unknown) => setError(errorText(e)),
    );
  }, [api]);
  useEffect(() => {
    refresh();
    api['files.places']({}).then(
      (p) => setDemoDir(p.demoModel),
      () => setDemoDir(null),
    );
  }, [api, refresh]);

  const runCompile = async (checkpointDir: string) => {
    setNotice(null);
    const r = await compile.start(({ signal, onProgress }) =>
      api['models.compile'](
        {
          checkpointDir,
          precision: (precision as (typeof PRECISIONS)[number] | null) ?? undefined,
          provider: (provider as (typeof COMPILE_PROVIDERS)[number] | null) ?? undefined,
        },
        { signal, on: { progress: onProgress } },
      ),
    );
    if (r) setNotice(`${r.name}: ${r.cached ? 'already compiled' : 'compiled'} (${r.numLayers} layers, hidden size ${r.hiddenSize}).`);
    refresh();
  };

  const remove = async (r: Removal) => {
    setRemoval(null);
    setNotice(null);
    setError(null);
    try {
      if (r.kind === 'variant') {
        const out = await api['models.removeVariant']({ variant: r.id });
        setNotice(`Removed ${r.what}, freeing ${formatBytes(out.removedBytes)}.${out.warning ? ` ${out.warning}.` : ''}`);
      } else {
        const out = await api['models.remove']({ model: r.id });
        setNotice(`Removed ${r.what}, freeing ${formatBytes(out.removedBytes)}.`);
      }
    } catch (e) {
      setError(errorText(e));
    }
    refresh();
  };

  const bytesOf = (variantId: string) => disk?.variants.find((v) => v.variantId === variantId);

  return (
    <Stack>
      <Title order={2}>Models</Title>

      <Card withBorder component="section" aria-labelledby="add-model-heading">
        <Stack>
          <Title order={3} size="h4" id="add-model-heading">
            Add a model
          </Title>
          <Text size="sm" c="dimmed">
            Compile a Hugging Face checkpoint folder (config.json and safetensors) on this machine. Compiling is done once; the result is
            cached in the data folder.
          </Text>
          <Group>
            <Button onClick={() => demoDir && void runCompile(demoDir)} disabled={!demoDir || compile.state.running} variant="light">
              Add the demo model
            </Button>
            {!demoDir && (
              <Text size="xs" c="dimmed">
                (the demo model is not shipped with this install)
              </Text>
            )}
          </Group>
          <PathField label="Checkpoint folder" mode="dir" value={dir} onChange={setDir} />
          <Group grow>
            <Select
              label="Precision"
              placeholder="Default"
              data={[...PRECISIONS]}
              value={precision}
              onChange={setPrecision}
              clearable
              description="fp32 is exact; fp16/int8/int4 are smaller"
            />
            <Select
              label="Provider"
              placeholder="Default (cpu)"
              data={[...COMPILE_PROVIDERS]}
              value={provider}
              onChange={setProvider}
              clearable
              description="The accelerator the compiled model targets"
            />
          </Group>
          <Group>
            <Button onClick={() => void runCompile(dir.trim())} disabled={!dir.trim() || compile.state.running}>
              Compile
            </Button>
          </Group>
          <RunProgress state={compile.state} onCancel={compile.cancel} label="Compile" />
        </Stack>
      </Card>

      {notice && (
        <Alert color="green" role="status" withCloseButton onClose={() => setNotice(null)} closeButtonLabel="Dismiss">
          {notice}
        </Alert>
      )}
      {error && (
        <Alert color="red" role="alert" withCloseButton onClose={() => setError(null)} closeButtonLabel="Dismiss">
          {error}
        </Alert>
      )}

      <Group justify="space-between">
        <Title order={3} size="h4">
          Library models
        </Title>
        <Group gap="xs">
          <Text size="sm" aria-label="Engine status">
            Engine:{' '}
            {status === undefined
              ? '…'
              : status === null
                ? 'no model loaded'
                : `${status.provider} (${status.precision}), ${status.providerReason}`}
          </Text>
          {memory && (
            <Text size="sm" aria-label="Memory">
              Memory: the studio holds {formatBytes(memory.processBytes)}; {formatBytes(memory.machineFreeBytes)} of{' '}
              {formatBytes(memory.machineTotalBytes)} free
            </Text>
          )}
          {disk && <Badge variant="light">Compiled models use {formatBytes(disk.totalBytes)}</Badge>}
        </Group>
      </Group>

      {models && models.length === 0 && (
        <Text>No models yet. Add the demo model above, or compile a Hugging Face checkpoint folder; then train personas for it.</Text>
      )}
      {models && models.length > 0 && (
        <Table aria-label="Library models" verticalSpacing="sm">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Architecture</Table.Th>
              <Table.Th>Layers</Table.Th>
              <Table.Th>Compiled variants</Table.Th>
              <Table.Th>Actions</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {models.map((m) => (
              <Table.Tr key={m.id}>
                <Table.Td>
                  <Text fw={500}>{m.name}</Text>
                  <Text size="xs" c="dimmed">
                    {m.source}
                  </Text>
                </Table.Td>
                <Table.Td>{m.architecture}</Table.Td>
                <Table.Td>
                  {m.numLayers} × {m.hiddenSize}
                </Table.Td>
                <Table.Td>
                  {m.variants.length === 0 && (
                    <Text size="sm" c="dimmed">
                      none (compiled again on first use)
                    </Text>
                  )}
                  <Stack gap={4}>
                    {m.variants.map((v) => {
                      const d = bytesOf(v.id);
                      return (
                        <Group key={v.id} gap="xs" wrap="nowrap">
                          <Badge variant="default">{v.label}</Badge>
                          <Text size="xs" c="dimmed">
                            {d ? (d.exists ? formatBytes(d.bytes) : 'folder missing') : ''}
                          </Text>
                          <Button
                            size="compact-xs"
                            variant="subtle"
                            color="red"
                            aria-label={`Remove variant ${v.label} of ${m.name}`}
                            onClick={() => setRemoval({ kind: 'variant', id: v.id, what: `the ${v.label} variant of ${m.name}` })}
                          >
                            Remove
                          </Button>
                        </Group>
                      );
                    })}
                  </Stack>
                </Table.Td>
                <Table.Td>
                  <Button
                    size="xs"
                    variant="default"
                    color="red"
                    aria-label={`Remove model ${m.name}`}
                    onClick={() => setRemoval({ kind: 'model', id: m.id, what: `the model ${m.name}` })}
                  >
                    Remove model
                  </Button>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}

      <Modal opened={!!removal} onClose={() => setRemoval(null)} title="Remove from the library?">
        <Stack>
          <Text>
            Remove {removal?.what}? Its compiled files in the data folder are deleted. Personas that use the model are never removed: if any
            would break, the studio refuses.
          </Text>
          <Group justify="end">
            <Button variant="default" onClick={() => setRemoval(null)}>
              Keep
            </Button>
            <Button color="red" onClick={() => removal && void remove(removal)}>
              Remove
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}
