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

      <SecretField
        title="Judge API key"
        state={view?.judgeKey}
        fromEnv={view?.judgeKeyFromEnv ? 'PERSONA_STUDIO_JUDGE_KEY' : null}
        store={view?.secretStore}
        onStore={(key) => api['settings.setJudgeKey']({ key }).then(show)}
        onRemove={() => api['settings.clearJudgeKey']({}).then(show)}
        onError={fail}
      />
      <SecretField
        title="Hugging Face token"
        hint="For gated models (Llama, Gemma): accept the licence on the hub, then store an access token here."
        state={view?.hubToken}
        fromEnv={view?.hubTokenFromEnv ? 'HF_TOKEN' : null}
        store={view?.secretStore}
        onStore={(token) => api['settings.setHubToken']({ token }).then(show)}
        onRemove={() => api['settings.clearHubToken']({}).then(show)}
        onError={fail}
      />
    </Stack>
  );
}

/** A secret kept in main (the judge key, the hub token): sent once, then only "set" / "not set" comes back. */
function SecretField(props: {
  title: string;
  hint?: string;
  state: 'set' | 'not set' | undefined;
  /** The environment variable that overrides the stored value where the studio runs, when it is set. */
  fromEnv: string | null;
  store: string | undefined;
  onStore: (value: string) => Promise<unknown>;
  onRemove: () => Promise<unknown>;
  onError: (e: unknown) => void;
}) {
  const [value, setValue] = useState('');
  const [empty, setEmpty] = useState(false);
  return (
    <Stack gap="xs">
      <Title order={3}>{props.title}</Title>
      {props.hint && <Text size="sm">{props.hint}</Text>}
      <Group gap="xs">
        <Text size="sm">Stored:</Text>
        <Badge color={props.state === 'set' ? 'green' : 'gray'} variant="light" aria-label={`${props.title} ${props.state ?? 'unknown'}`}>
          {props.state ?? '…'}
        </Badge>
        {props.store && (
          <Text size="xs" c="dimmed">
            kept with {props.store === 'file' ? 'a file only you can read, in the data directory' : props.store}; never shown again
          </Text>
        )}
      </Group>
      {props.fromEnv && (
        <Text size="sm" c={TEXT.warning}>
          {props.fromEnv} is set where the studio runs: it is used instead of the stored value.
        </Text>
      )}
      <form
        aria-label={props.title}
        onSubmit={(e) => {
          e.preventDefault();
          setEmpty(!value.trim());
          if (value.trim()) props.onStore(value).then(() => setValue(''), props.onError);
        }}
      >
        <Group align="end">
          <PasswordInput
            label={props.title}
            value={value}
            onChange={(e) => setValue(e.currentTarget.value)}
            error={empty ? `${props.title}: is empty` : undefined}
            autoComplete="off"
            w={320}
          />
          <Button type="submit" aria-label={`Store ${props.title}`}>
            Store
          </Button>
          <Button
            variant="default"
            disabled={props.state !== 'set'}
            onClick={() => props.onRemove().catch(props.onError)}
            aria-label={`Remove ${props.title}`}
          >
            Remove
          </Button>
        </Group>
      </form>
    </Stack>
  );
}
