import { useEffect, useId, useState } from 'react';

/** A search field that reports its value once typing pauses, so each keystroke is not a request. */
export function SearchBox({ label, onSearch, className = 'field' }: { label: string; onSearch: (q: string) => void; className?: string }) {
  const id = useId();
  const [value, setValue] = useState('');
  useEffect(() => {
    const timer = setTimeout(() => onSearch(value.trim()), 300);
    return () => clearTimeout(timer);
  }, [value, onSearch]);
  return (
    <div className={className} role="search">
      <label htmlFor={id}>{label}</label>
      <input id={id} type="search" value={value} onChange={(e) => setValue(e.target.value)} />
    </div>
  );
}
