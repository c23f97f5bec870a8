import { useId } from 'react';

export interface Choice<T extends string> {
  value: T;
  label: string;
}

/** A labelled select over a fixed list of choices. */
export function SelectField<T extends string>({ label, value, choices, onChange }: { label: string; value: T; choices: readonly Choice<T>[]; onChange: (value: T) => void }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(choices.find((c) => c.value === e.target.value)?.value ?? value)}>
        {choices.map((c) => (
          <option key={c.value} value={c.value}>
            {c.label}
          </option>
        ))}
      </select>
    </div>
  );
}
