// Settings: the engine's provider and threads, the data directory (applies at the next start), and
// the judge endpoint with its API key. The form validates against the contract's settingsSchema
// (its defaults, its field descriptions as help text, its messages as errors under the field); the
// key is sent once and kept in main — this screen only ever learns whether one is set.
import { Alert, Badge, Button, Group, NumberInput, PasswordInput, Select, Stack, Text, TextInput, Title } from '@mantine/core';
import { schemaResolver, useForm } from '@mantine/form';
import { useEffect, useState } from 'react';
import { ENGINE_PROVIDERS, settingsSchema, type AppResult, type Settings } from '../../../../preload/contract.ts';
import { useStudio } from '../../studio.tsx';
import { TEXT } from '../../colors.ts';

type View = AppResult<'settings.get'>;
const doc = (field: keyof Settings) => settingsSchema.shape[field].description;

export function SettingsScreen() {
  const { api } = useStudio();
  const [view, setView] = useState<View | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [key, setKey] = useState('');
  const form = useForm<Settings>({
    mode: 'controlled',
    initialValues: settingsSchema.parse({}),
    validate: schemaResolver(settingsSchema, { sync: true }),
  });
  const fail = (e: unknown) => setError(e instanceof Error ? e.message : String(e));
  const show = (v: View) => {
    setView(v);
    form.setInitialValues(v.settings);
    form.setValues(v.settings);
  };
  useEffect(() => {
    api['settings.get']({}).then(show, fail);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- once per connection
  }, [api]);

  const save = form.onSubmit((values) => {
    setError(null);
    setSaved(false);
    api['settings.set'](values).then((v) => {
      show(v);
      setSaved(true);
    }, fail);
  });
  const dataDirChanged = view !== null && form.values.dataDir !== view.settings.dataDir;

  return (
    <Stack maw={640}>
      <Title order={2}>Settings</Title>
      {error && (
        <Alert color="red" title="Not saved" withCloseButton onClose={() => setError(null)}>
          {error}
        </Alert>
      )}
      <form onSubmit={save} aria-label="Settings">
        <Stack>
          <Title order={3}>Engine</Title>
          <Select
            label="Execution provider"
            description={doc('provider')}
            data={ENGINE_PROVIDERS.map((p) => ({ value: p, label: p }))}
            allowDeselect={false}
            {...form.getInputProps('provider')}
          />
          <NumberInput label="Threads" description={doc('threads')} allowDecimal={false} min={0} {...form.getInputProps('threads')} />

          <Title order={3}>Data</Title>
          <Text size="sm">
            In use now: <code>{view?.dataDirInUse ?? '…'}</code>
          </Text>
          <TextInput label="Data directory" description={doc('dataDir')} placeholder="(default)" {...form.getInputProps('dataDir')} />
          {dataDirChanged && (
            <Text size="sm" c={TEXT.warning}>
              A new data directory takes effect when the studio is started again; until then it keeps using the one in use now.
            </Text>
          )}

          <Title order={3}>Judge</Title>
          <TextInput
            label="Judge endpoint URL"
            description={doc('judgeUrl')}
            placeholder="http://127.0.0.1:8080"
            {...form.getInputProps('judgeUrl')}
          />
          <TextInput label="Judge model" description={doc('judgeModel')} {...form.getInputProps('judgeModel')} />
          <Group>
            <Button type="submit">Save settings</Button>
            <Button variant="default" onClick={() => form.setValues(settingsSchema.parse({}))}>
              Reset to defaults
            </Button>
            {saved && !form.isDirty() && <Text c={TEXT.success}>Saved.</Text>}
          </Group>
        </Stack>
      </form>

      <Stack gap="xs">
        <Title order={3}>Judge API key</Title>
        <Group gap="xs">
          <Text size="sm">Stored key:</Text>
          <Badge
            color={view?.judgeKey === 'set' ? 'green' : 'gray'}
            variant="light"
            aria-label={`Judge key ${view?.judgeKey ?? 'unknown'}`}
          >
            {view?.judgeKey ?? '…'}
          </Badge>
          {view && (
            <Text size="xs" c="dimmed">
              kept with {view.secretStore === 'file' ? 'a file only you can read, in the data directory' : view.secretStore}; never shown
              again
            </Text>
          )}
        </Group>
        {view?.judgeKeyFromEnv && (
          <Text size="sm" c={TEXT.warning}>
            PERSONA_STUDIO_JUDGE_KEY is set where the studio runs: it is used instead of the stored key.
          </Text>
        )}
        <form
          aria-label="Judge API key"
          onSubmit={(e) => {
            e.preventDefault();
            if (!key.trim()) return setError('Judge API key: is empty');
            setError(null);
            api['settings.setJudgeKey']({ key }).then((v) => {
              setKey('');
              show(v);
            }, fail);
          }}
        >
          <Group align="end">
            <PasswordInput label="Judge API key" value={key} onChange={(e) => setKey(e.currentTarget.value)} autoComplete="off" w={320} />
            <Button type="submit">Store key</Button>
            <Button
              variant="default"
              disabled={view?.judgeKey !== 'set'}
              onClick={() => api['settings.clearJudgeKey']({}).then(show, fail)}
            >
              Remove key
            </Button>
          </Group>
        </form>
      </Stack>
    </Stack>
  );
}
